using System.CommandLine;
using MarlinSharp.Cuda;

namespace MarlinSharp.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show the GPU, driver, NVRTC and cuBLAS versions and the kernel cache folder.");
        command.SetAction(_ => CliAction.Run(Run));
        return command;
    }

    private static int Run()
    {
        Console.WriteLine($"MarlinSharp      {typeof(MarlinRuntime).Assembly.GetName().Version}");
        Console.WriteLine($".NET             {Environment.Version}");
        Console.WriteLine($"kernel cache     {KernelCache.DefaultDirectory} (override with {KernelCache.DirectoryEnvironmentVariable})");
        Console.WriteLine($"NVRTC            {(Nvrtc.IsAvailable(out string nvrtcReason) ? Nvrtc.Version.ToString() : "unavailable: " + nvrtcReason)}");
        Console.WriteLine($"cuBLAS           {(CublasHandle.IsAvailable(out string cublasReason) ? CublasHandle.Version.ToString() : "unavailable: " + cublasReason)}");
        if (!CudaContext.IsGpuAvailable(out string gpuReason))
        {
            Console.WriteLine($"GPU              none: {gpuReason}");
            return CliAction.NoGpu;
        }
        for (int ordinal = 0; ordinal < CudaContext.DeviceCount; ordinal++)
        {
            using var context = CudaContext.Create(ordinal);
            DeviceInfo d = context.Device;
            Console.WriteLine($"GPU {ordinal}            {d.Name} ({d.Architecture}, {d.MultiprocessorCount} SMs, {d.TotalMemoryBytes / (1L << 30)} GiB, L2 {d.L2CacheBytes / (1 << 20)} MiB, " +
                              $"{d.MaxSharedMemoryPerBlockOptin / 1024} KiB shared/block, ~{d.PeakMemoryBandwidthBytesPerSecond / 1e12:F2} TB/s peak)");
            Console.WriteLine($"driver           CUDA {d.DriverVersion / 1000}.{d.DriverVersion % 1000 / 10}");
        }
        return 0;
    }
}
