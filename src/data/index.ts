// nn.data: data sets (toy sets here; loaders such as loadMnist join this namespace).
export { spiral, xor, type SpiralOptions } from './toy';
