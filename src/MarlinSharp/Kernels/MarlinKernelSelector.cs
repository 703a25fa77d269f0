using MarlinSharp.Cuda;

namespace MarlinSharp.Kernels;

/// <summary>
/// Chooses the kernel configuration for one launch of at most 64 rows. Small batches stream weights and
/// want wide, deep tiles with many bytes in flight; larger batches are tensor-core bound and want the
/// 256-column tile that amortises each dequantised weight over more rows.
/// </summary>
public static class MarlinKernelSelector
{
    public static MarlinKernelConfig Select(int rows, int n, int k, int groupSize, DeviceInfo device, int? stagesOverride = null)
    {
        if (rows is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(rows), rows, "One launch covers 1..64 rows.");
        int mBlocks = (rows + 15) / 16;
        int groupBlocks = MarlinKernelConfig.GroupBlocksFor(groupSize);

        (int tileN, int tileK) = mBlocks <= 2
            ? (n % 256 == 0 && device.ComputeCapabilityMajor >= 9 ? (256, 128) : n % 128 == 0 ? (128, 128) : (64, 128))
            : (n % 256 == 0 ? (256, 64) : n % 128 == 0 ? (128, 64) : (64, 128));

        int stages = stagesOverride ?? 4;
        var config = new MarlinKernelConfig(mBlocks, tileN, tileK, stages, groupBlocks);
        // Fit the shared-memory budget of smaller parts (e.g. sm_86/sm_89 give a block 99 KB) by trimming depth.
        while (config.SharedMemoryBytes > device.MaxSharedMemoryPerBlockOptin && config.Stages > 2)
            config = config with { Stages = config.Stages - 1 };
        if (config.SharedMemoryBytes > device.MaxSharedMemoryPerBlockOptin && config.TileN > 64)
            config = config with { TileN = 64, TileK = 128 };
        if (config.SharedMemoryBytes > device.MaxSharedMemoryPerBlockOptin)
            throw new NotSupportedException($"{device.Name} offers {device.MaxSharedMemoryPerBlockOptin} bytes of shared memory per block; configuration {config} needs {config.SharedMemoryBytes}.");
        return config;
    }
}
