// nn.data: data sets (toy sets, loaders such as loadMnist, the Dataset and its batch iterator) and image augmentation.
export { spiral, xor, type SpiralOptions } from './toy';
export {
  loadMnist, DataError, MNIST_FILES, MNIST_FILE_BYTES, MNIST_MIRRORS, MNIST_SHA256, DOWNLOAD_TIMEOUT_MS, SYSTEM_DIRS,
  parseIdxImages, parseIdxLabels,
  type LoadMnistOptions, type Mnist, type MnistKind, type DataErrorCode, type IdxImages,
} from './mnist';
export { BatchIterator, type Batch, type BatchIteratorOptions, type BatchTargets, type IndexedBatch } from './batches';
export {
  Dataset, type Sample, type DatasetSource, type FromOptions, type ShuffleOptions, type BatchOptions, type FromIdxOptions,
  type DatasetMeta,
} from './dataset';
export type { FromCsvOptions } from './csv';
export * as augment from './augment';
