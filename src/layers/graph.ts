// Computational-graph nodes with two inputs and two gradients (Mul, Add, Sub, Div, Pow), the course's first
// backpropagation example:
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

  /** The node's output for inputs x and y (numbers are one-element float64 tensors). */
  forward(x: Tensor | number, y: Tensor | number): Tensor {
    const a = asTensor(x, 'x'), b = asTensor(y, 'y');
    sameShape(a, b, 'Mul');
    const out = Tensor.zeros(a.shape, a.dtype);
    getBackend().mul(a.size, a.data, b.data, out.data);
    this.x = a;
    this.y = b;
    return out;
  }

  /** The gradients of x and y for the gradient dout of the output, from the last forward(). */
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
  /** The node's output for inputs x and y (numbers are one-element float64 tensors). */
  forward(x: Tensor | number, y: Tensor | number): Tensor {
    const a = asTensor(x, 'x'), b = asTensor(y, 'y');
    sameShape(a, b, 'Add');
    const out = Tensor.zeros(a.shape, a.dtype);
    getBackend().add(a.size, a.data, b.data, out.data);
    return out;
  }

  /** The gradients of x and y for the gradient dout of the output, from the last forward(). */
  backward(dout: Tensor | number): [Tensor, Tensor] {
    const d = asTensor(dout, 'dout');
    return [d.clone(), d.clone()];
  }
}

/** out = x − y elementwise; backward gives (dout, −dout). */
export class Sub {
  /** The node's output for inputs x and y (numbers are one-element float64 tensors). */
  forward(x: Tensor | number, y: Tensor | number): Tensor {
    const a = asTensor(x, 'x'), b = asTensor(y, 'y');
    sameShape(a, b, 'Sub');
    const out = a.clone();
    getBackend().axpy(out.size, -1, b.data, out.data);
    return out;
  }

  /** The gradients of x and y for the gradient dout of the output, from the last forward(). */
  backward(dout: Tensor | number): [Tensor, Tensor] {
    const d = asTensor(dout, 'dout');
    const dy = d.clone();
    getBackend().scale(dy.size, dy.data, -1);
    return [d.clone(), dy];
  }
}

/** out = x / y elementwise (x / 0 is ±Infinity or NaN, as IEEE says); backward gives (dout / y, −dout · x / y²). */
export class Div {
  private x: Tensor | null = null;
  private y: Tensor | null = null;

  /** The node's output for inputs x and y (numbers are one-element float64 tensors). */
  forward(x: Tensor | number, y: Tensor | number): Tensor {
    const a = asTensor(x, 'x'), b = asTensor(y, 'y');
    sameShape(a, b, 'Div');
    const out = Tensor.zeros(a.shape, a.dtype);
    getBackend().div(a.size, a.data, b.data, out.data);
    this.x = a;
    this.y = b;
    return out;
  }

  /** The gradients of x and y for the gradient dout of the output, from the last forward(). */
  backward(dout: Tensor | number): [Tensor, Tensor] {
    if (!this.x || !this.y) throw new Error('Div: backward() called before forward()');
    const d = asTensor(dout, 'dout');
    sameShape(d, this.x, 'Div backward');
    const b = getBackend(), n = d.size;
    const dx = Tensor.zeros(d.shape, d.dtype), dy = Tensor.zeros(d.shape, d.dtype);
    b.div(n, d.data, this.y.data, dx.data);    // dout / y
    b.mul(n, dx.data, this.x.data, dy.data);   // dout · x / y
    b.div(n, dy.data, this.y.data, dy.data);   // dout · x / y²
    b.scale(n, dy.data, -1);
    return [dx, dy];
  }
}

/**
 * out = x ^ y elementwise (y the exponent); backward gives (dout · y · x^(y−1), dout · x^y · ln x), with PyTorch's
 * rules where that is undefined: 0 for d/dx where y = 0, 0 for d/dy where x = 0 and y ≥ 0 (NaN for d/dy where
 * x < 0, as ln x is).
 */
export class Pow {
  private x: Tensor | null = null;
  private y: Tensor | null = null;

  /** The node's output for inputs x and y (numbers are one-element float64 tensors). */
  forward(x: Tensor | number, y: Tensor | number): Tensor {
    const a = asTensor(x, 'x'), b = asTensor(y, 'y');
    sameShape(a, b, 'Pow');
    const out = Tensor.zeros(a.shape, a.dtype);
    getBackend().power(a.size, a.data, b.data, out.data);
    this.x = a;
    this.y = b;
    return out;
  }

  /** The gradients of x and y for the gradient dout of the output, from the last forward(). */
  backward(dout: Tensor | number): [Tensor, Tensor] {
    if (!this.x || !this.y) throw new Error('Pow: backward() called before forward()');
    const d = asTensor(dout, 'dout');
    sameShape(d, this.x, 'Pow backward');
    const dx = Tensor.zeros(d.shape, d.dtype), dy = Tensor.zeros(d.shape, d.dtype);
    getBackend().powerBackward(d.size, this.x.data, this.y.data, d.data, dx.data, dy.data);
    return [dx, dy];
  }
}
