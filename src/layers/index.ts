// Every built-in layer (importing this registers them all for layerFromConfig).
export { Layer, type LayerConfig, type InitContext } from './layer';
export {
  registerLayer, layerFromConfig, registeredLayers, layerShapes, type LayerFactory, type LayerShapes, type LayerRegistration,
} from './registry';
export { Dense, type DenseOptions, type BiasInit } from './dense';
export { Activation } from './activation';
export { ReLU } from './relu';
export { LeakyReLU } from './leaky_relu';
export { Sigmoid } from './sigmoid';
export { Tanh } from './tanh';
export { Step } from './step';
export { Softmax } from './softmax';
export { Flatten } from './flatten';
export { Dropout } from './dropout';
export { Mul, Add, Sub, Div, Pow } from './graph';
// conv layers
export { Conv2D, type Conv2DOptions, type ConvInit } from './conv2d';
export { Conv1D, type Conv1DOptions } from './conv1d';
export { MaxPool2D, Pool2D, type PoolOptions } from './max_pool2d';
export { AvgPool2D } from './avg_pool2d';
export { GlobalAvgPool2D } from './global_avg_pool2d';
export { BatchNorm, type BatchNormOptions } from './batch_norm';
export { BatchNorm1D } from './batch_norm1d';
export { BatchNorm2D } from './batch_norm2d';
// sequence layers
export { Embedding, type EmbeddingOptions } from './embedding';
export { LayerNorm, type LayerNormOptions } from './layer_norm';
