// nn.ops: the tensor operations as functions (most also Tensor methods).
export { broadcastShapes, broadcastStrides, contiguousStrides } from './broadcast';
export {
  type TensorLike, type OutOptions, resultDType, add, sub, mul, div, pow, maximum, minimum, gt, ge, lt, le, eq, ne, where, neg, abs, sign,
  exp, log, log1p, sqrt, square, relu, leakyRelu, sigmoid, tanh, step, softplus, gelu, clamp, equal, allClose,
} from './elementwise';
export {
  type CreationOptions, type RandomOptions, tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace,
  eye, rand, randn, randint, manualSeed,
} from './creation';
export { type Nested, toText, toRepr, toNested, item } from './format';
export {
  type Axis, type ReduceOptions, type VarianceOptions, type ArgOptions, type Reduction, type ArgReduction, sum, mean, prod, max, min, variance, var, std,
  logSumExp, argmax, argmin, softmax, logSoftmax,
} from './reduce';
export { type MatmulOptions, type LinearOptions, type LinearActivation, matmul, dot, outer, linear } from './linalg';
export {
  reshape, transpose, permute, swapaxes, squeeze, unsqueeze, flatten, concat, stack, split, broadcastTo, pad,
} from './shape';
export {
  type SliceSpec, slice, take, gather, maskedSelect, booleanMask, oneHot, scatterAdd,
} from './indexing';
