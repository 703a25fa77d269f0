namespace MarlinSharp.Tests.Cuda;

internal static class TestKernels
{
    /// <summary>c[i] = a[i] + b[i]; header-free; uses a little inline PTX.</summary>
    public const string AddSource = """
        extern "C" __global__ void add_f32(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c, int n)
        {
            unsigned int lane;
            asm volatile("mov.u32 %0, %%laneid;" : "=r"(lane));
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) c[i] = a[i] + b[i] + (float)(lane & 0u);
        }
        """;

    /// <summary>Fails to compile unless -DMARLIN_TEST_VALUE=3 is passed.</summary>
    public const string NeedsDefineSource = """
        #if MARLIN_TEST_VALUE != 3
        #error MARLIN_TEST_VALUE must be 3
        #endif
        extern "C" __global__ void scale(float* x) { x[threadIdx.x] *= MARLIN_TEST_VALUE; }
        """;

    public const string SyntaxErrorSource = """
        extern "C" __global__ void broken(float* x)
        {
            x[threadIdx.x] = undefined_identifier_xyz + 1.0f
        }
        """;

    /// <summary>ELF e_machine value for NVIDIA CUDA.</summary>
    public const ushort EmCuda = 190;
}
