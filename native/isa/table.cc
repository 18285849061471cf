// The kernel table of one ISA. Compiled once per ISA with that ISA's flags, like the kernel sources.
#include "../kernels.h"

namespace nodenn {
namespace NODENN_ISA_NS {

#define NODENN_TABLE_ENTRIES(T)                                                                  \
  gemm<T>, activation_forward<T>, activation_backward<T>, bias_add<T>, bias_backward<T>, softmax<T>, \
      softmax_cross_entropy_index<T>, softmax_cross_entropy_target<T>, sgd<T>,                    \
      /* net kernels */                                                                          \
      mul<T>, add<T>, div<T>, power<T>, power_backward<T>, scale<T>, axpy<T>, sum_squares<T>,     \
      argmax_rows<T>, softmax_backward<T>, bce_logits<T>, bce_probs<T>, mse<T>,                   \
      cross_entropy_probs<T>, sgd_momentum<T>, adagrad<T>, rmsprop<T>, adam<T>,                   \
      /* conv kernels */                                                                                 \
      conv2d_forward<T>, conv2d_backward_data<T>, conv2d_backward_filter<T>, max_pool2d_forward<T>,        \
      max_pool2d_backward<T>, avg_pool2d_forward<T>, avg_pool2d_backward<T>, batch_norm_forward<T>,        \
      batch_norm_backward<T>

#define NODENN_STR2(x) #x
#define NODENN_STR(x) NODENN_STR2(x)

extern const Kernels kernels = {NODENN_STR(NODENN_ISA_NS), NODENN_TABLE_ENTRIES(float), NODENN_TABLE_ENTRIES(double)};

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
