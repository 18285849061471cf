// Every built-in layer (importing this registers them all for layerFromConfig).
export { Layer, type LayerConfig, type InitContext } from './layer';
export { registerLayer, layerFromConfig, registeredLayers, type LayerFactory } from './registry';
export { Dense, type DenseOptions } from './dense';
export { Activation } from './activation';
export { ReLU } from './relu';
export { LeakyReLU } from './leaky_relu';
export { Sigmoid } from './sigmoid';
export { Tanh } from './tanh';
export { Softmax } from './softmax';
export { Flatten } from './flatten';
export { Dropout } from './dropout';
export { Mul, Add } from './graph';
