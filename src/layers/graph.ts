// Computational-graph nodes with two inputs and two gradients, the course's first backpropagation example:
//   apple = new Mul(); total = new Mul();
//   price = total.forward(apple.forward(100, 2), 1.1)            // 220 · 1.1 = 242
//   const [dApplePrice, dTax] = total.backward(1); const [dApple, dNum] = apple.backward(dApplePrice);
// Inputs may be Tensors (same shape and dtype) or plain numbers (treated as float64 scalars).
import { getBackend } from '../backend/index';
import { Tensor, formatShape } from '../tensor';

function asTensor(v: Tensor | number, name: string): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v === 'number') return new Tensor(new Float64Array([v]), [1]);
  throw new TypeError(`${name} must be a Tensor or a number`);
}

function sameShape(x: Tensor, y: Tensor, node: string): void {
  if (x.size !== y.size || x.dtype !== y.dtype || x.shape.join() !== y.shape.join()) {
    throw new RangeError(`${node}: x (${x.dtype} ${formatShape(x.shape)}) and y (${y.dtype} ${formatShape(y.shape)}) must have the same shape and dtype`);
  }
}

/** out = x · y elementwise; backward gives (dout · y, dout · x). */
export class Mul {
  private x: Tensor | null = null;
  private y: Tensor | null = null;

  forward(x: Tensor | number, y: Tensor | number): Tensor {
    const a = asTensor(x, 'x'), b = asTensor(y, 'y');
    sameShape(a, b, 'Mul');
    const out = Tensor.zeros(a.shape, a.dtype);
    getBackend().mul(a.size, a.data, b.data, out.data);
    this.x = a;
    this.y = b;
    return out;
  }

  backward(dout: Tensor | number): [Tensor, Tensor] {
    if (!this.x || !this.y) throw new Error('Mul: backward() called before forward()');
    const d = asTensor(dout, 'dout');
    sameShape(d, this.x, 'Mul backward');
    const dx = Tensor.zeros(d.shape, d.dtype), dy = Tensor.zeros(d.shape, d.dtype);
    getBackend().mul(d.size, d.data, this.y.data, dx.data);
    getBackend().mul(d.size, d.data, this.x.data, dy.data);
    return [dx, dy];
  }
}

/** out = x + y elementwise; backward passes dout to both inputs. */
export class Add {
  forward(x: Tensor | number, y: Tensor | number): Tensor {
    const a = asTensor(x, 'x'), b = asTensor(y, 'y');
    sameShape(a, b, 'Add');
    const out = Tensor.zeros(a.shape, a.dtype);
    getBackend().add(a.size, a.data, b.data, out.data);
    return out;
  }

  backward(dout: Tensor | number): [Tensor, Tensor] {
    const d = asTensor(dout, 'dout');
    return [d.clone(), d.clone()];
  }
}
