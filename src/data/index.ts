// nn.data: data sets (toy sets here; loaders such as loadMnist join this namespace) and image augmentation.
export { spiral, xor, type SpiralOptions } from './toy';
export {
  loadMnist, DataError, MNIST_FILES, MNIST_FILE_BYTES, MNIST_MIRRORS, MNIST_SHA256, DOWNLOAD_TIMEOUT_MS, SYSTEM_DIRS,
  parseIdxImages, parseIdxLabels,
  type LoadMnistOptions, type Mnist, type MnistKind, type DataErrorCode, type IdxImages,
} from './mnist';
export * as augment from './augment';
