// Run-time choice of the kernel variant.
#include "CKernels.h"
#include "kernels.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

const ck_variant *ck_variant_for(int kernel) {
    switch (kernel) {
    case CK_KERNEL_PORTABLE:
        return &ck_variant_portable;
#if defined(__x86_64__)
    case CK_KERNEL_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
            ? &ck_variant_avx2 : NULL;
    case CK_KERNEL_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma")
            ? &ck_variant_avx512 : NULL;
#endif
    default:
        return NULL;
    }
}

int ck_kernel_available(ck_kernel kernel) {
    return ck_variant_for(kernel) != NULL;
}

/// The best available variant, or the available one MODELINFO_KERNELS names.
static ck_kernel choose(void) {
    const char *wanted = getenv("MODELINFO_KERNELS");
    ck_kernel best = CK_KERNEL_PORTABLE;
    for (int kernel = CK_KERNEL_PORTABLE; kernel <= CK_KERNEL_AVX512; kernel++) {
        const ck_variant *v = ck_variant_for(kernel);
        if (v == NULL) continue;
        if (wanted != NULL && strcmp(wanted, v->name) == 0) return kernel;
        best = kernel;
    }
    return best;
}

// -1 until the first call; racing first calls compute the same answer.
static _Atomic int selected = -1;

ck_kernel ck_kernel_selected(void) {
    int kernel = atomic_load_explicit(&selected, memory_order_relaxed);
    if (kernel < 0) {
        kernel = choose();
        atomic_store_explicit(&selected, kernel, memory_order_relaxed);
    }
    return kernel;
}

const ck_variant *ck_variant_selected(void) {
    switch (ck_kernel_selected()) {
#if defined(__x86_64__)
    case CK_KERNEL_AVX2: return &ck_variant_avx2;
    case CK_KERNEL_AVX512: return &ck_variant_avx512;
#endif
    default: return &ck_variant_portable;
    }
}

const char *ck_kernel_name(void) {
    return ck_variant_selected()->name;
}
