# node-gyp build used at install time when no prebuilt binary fits (node-gyp-build runs it).
# The source lists must match CMakeLists.txt (checked by test/process.spec.ts).
{
  "variables": {
    "common_sources": [
      "native/addon.cc",
      "native/dispatch.cc",
      "native/threads.cc"
    ],
    "kernel_sources": [
      "native/gemm.cc",
      "native/elementwise.cc",
      "native/isa/table.cc",
      "native/ops.cc",
      "native/loss.cc",
      "native/optim.cc",
      "native/conv.cc",
      "native/pool.cc",
      "native/batchnorm.cc",
      "native/broadcast.cc",
      "native/unary.cc",
      "native/reduce.cc",
      "native/linalg.cc",
      "native/shape.cc",
      "native/augment.cc",
      "native/plan.cc"
    ],
    "kernel_cflags": ["-O3", "-fno-math-errno", "-std=c++17", "-fPIC", "-fvisibility=hidden"]
  },
  "targets": [
    {
      "target_name": "nodenn",
      "sources": ["<@(common_sources)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y", "-std=gnu++20"],
      "cflags_cc": ["-O3", "-fno-math-errno", "-std=c++17", "-fexceptions", "-fvisibility=hidden"],
      "dependencies": ["nodenn_scalar"],
      "conditions": [
        ["target_arch=='x64'", { "dependencies": ["nodenn_avx2", "nodenn_avx512"] }],
        ["target_arch=='arm64'", { "dependencies": ["nodenn_neon"] }],
        ["OS=='linux'", { "libraries": ["-ldl"] }]
      ]
    },
    {
      "target_name": "nodenn_scalar",
      "type": "static_library",
      "sources": ["<@(kernel_sources)"],
      "defines": ["NODENN_ISA_NS=scalar"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++1y", "-std=gnu++20"],
      "cflags_cc": ["<@(kernel_cflags)"],
      "conditions": [
        ["target_arch=='arm64'", { "cflags_cc": ["-ffp-contract=off"] }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "nodenn_avx2",
          "type": "static_library",
          "sources": ["<@(kernel_sources)"],
          "defines": ["NODENN_ISA_NS=avx2"],
          "cflags_cc!": ["-std=gnu++17", "-std=gnu++1y", "-std=gnu++20"],
          "cflags_cc": ["<@(kernel_cflags)", "-mavx2", "-mfma", "-mf16c"]
        },
        {
          "target_name": "nodenn_avx512",
          "type": "static_library",
          "sources": ["<@(kernel_sources)"],
          "defines": ["NODENN_ISA_NS=avx512"],
          "cflags_cc!": ["-std=gnu++17", "-std=gnu++1y", "-std=gnu++20"],
          "cflags_cc": ["<@(kernel_cflags)", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-mf16c", "-mprefer-vector-width=512"]
        }
      ]
    }],
    ["target_arch=='arm64'", {
      "targets": [
        {
          "target_name": "nodenn_neon",
          "type": "static_library",
          "sources": ["<@(kernel_sources)"],
          "defines": ["NODENN_ISA_NS=neon", "NODENN_FUSED_MERGE"],
          "cflags_cc!": ["-std=gnu++17", "-std=gnu++1y", "-std=gnu++20"],
          "cflags_cc": ["<@(kernel_cflags)"]
        }
      ]
    }]
  ]
}
