// nn.ops: the tensor operations as functions (each also a Tensor method).
export { broadcastShapes, broadcastStrides, contiguousStrides } from './broadcast';
