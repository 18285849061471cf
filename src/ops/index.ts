// nn.ops: the tensor operations as functions (each also a Tensor method).
export {
  type Axis, type ReduceOptions, type VarianceOptions, type ArgOptions, sum, mean, prod, max, min, variance, var, std,
  logSumExp, argmax, argmin, softmax, logSoftmax,
} from './reduce';
export { type MatmulOptions, matmul, dot, outer } from './linalg';
export {
  reshape, transpose, permute, swapaxes, squeeze, unsqueeze, flatten, concat, stack, split, broadcastTo, pad,
} from './shape';
export {
  type SliceSpec, slice, take, gather, maskedSelect, booleanMask, oneHot, scatterAdd,
} from './indexing';
