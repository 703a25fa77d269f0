using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>A kernel in a <see cref="CudaModule"/>. Valid while the module is not disposed.</summary>
public sealed class CudaFunction
{
    private readonly CudaModule _module;
    private readonly nint _function;

    internal CudaFunction(CudaModule module, nint function, string name)
    {
        _module = module;
        _function = function;
        Name = name;
        RegistersPerThread = Attribute(DriverApi.FuncAttrNumRegs);
        LocalBytesPerThread = Attribute(DriverApi.FuncAttrLocalSizeBytes);
        StaticSharedBytes = Attribute(DriverApi.FuncAttrSharedSizeBytes);
        MaxThreadsPerBlock = Attribute(DriverApi.FuncAttrMaxThreadsPerBlock);
    }

    public string Name { get; }
    public int RegistersPerThread { get; }
    public int LocalBytesPerThread { get; }
    public int StaticSharedBytes { get; }
    public int MaxThreadsPerBlock { get; }

    /// <summary>The current CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES.</summary>
    public int MaxDynamicSharedMemory
    {
        get
        {
            _module.ThrowIfDisposed();
            _module.MakeCurrent();
            return Attribute(DriverApi.FuncAttrMaxDynamicSharedSizeBytes);
        }
    }

    /// <summary>Allows launches with up to <paramref name="bytes"/> of dynamic shared memory (needed above 48 KiB).</summary>
    public void SetMaxDynamicSharedMemory(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        _module.ThrowIfDisposed();
        _module.MakeCurrent();
        Driver.Check(DriverApi.cuFuncSetAttribute(_function, DriverApi.FuncAttrMaxDynamicSharedSizeBytes, bytes), nameof(DriverApi.cuFuncSetAttribute));
    }

    /// <summary>
    /// Queues the kernel on <paramref name="stream"/> (cuLaunchKernel). <paramref name="arguments"/> points to an
    /// array with one pointer per kernel parameter, each pointing at that parameter's value.
    /// </summary>
    public unsafe void Launch(Dim3 grid, Dim3 block, int dynamicSharedBytes, CudaStream stream, void** arguments) =>
        Launch(grid, block, dynamicSharedBytes, stream, arguments, overlapPrevious: false);

    /// <summary>
    /// As <see cref="Launch(Dim3, Dim3, int, CudaStream, void**)"/>; with <paramref name="overlapPrevious"/> the launch
    /// carries the programmatic stream serialization attribute (Hopper and newer): the kernel may start while the
    /// previous kernel of the stream is still running, once that kernel signals <c>griddepcontrol.launch_dependents</c>.
    /// Only for kernels that execute <c>griddepcontrol.wait</c> before touching memory the previous kernel writes or
    /// reads. Falls back to a plain launch when the driver has no cuLaunchKernelEx.
    /// </summary>
    public unsafe void Launch(Dim3 grid, Dim3 block, int dynamicSharedBytes, CudaStream stream, void** arguments, bool overlapPrevious) =>
        Launch(grid, block, dynamicSharedBytes, stream, arguments, overlapPrevious, clusterX: 1);

    /// <summary>
    /// As <see cref="Launch(Dim3, Dim3, int, CudaStream, void**, bool)"/>, with the CTAs grouped into thread-block clusters of
    /// <paramref name="clusterX"/> × 1 × 1 (compute capability 9.0 and newer; grid.X must be a multiple of it). Clusters
    /// need cuLaunchKernelEx: without it a cluster launch throws, it is never silently dropped.
    /// </summary>
    public unsafe void Launch(Dim3 grid, Dim3 block, int dynamicSharedBytes, CudaStream stream, void** arguments, bool overlapPrevious, uint clusterX)
    {
        ValidateLaunch(grid, block, dynamicSharedBytes, MaxThreadsPerBlock);
        ValidateCluster(grid, clusterX);
        ArgumentNullException.ThrowIfNull(stream);
        _module.ThrowIfDisposed();
        nint s = stream.Handle;
        _module.MakeCurrent();
        int rc;
        string api;
        if ((overlapPrevious || clusterX > 1) && s_extendedLaunch)
        {
            DriverApi.LaunchAttribute* attributes = stackalloc DriverApi.LaunchAttribute[2];
            uint count = 0;
            if (overlapPrevious)
                attributes[count++] = new DriverApi.LaunchAttribute { Id = DriverApi.CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION, Value = 1 };
            if (clusterX > 1)
                attributes[count++] = new DriverApi.LaunchAttribute { Id = DriverApi.CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION, ClusterX = clusterX, ClusterY = 1, ClusterZ = 1 };
            var config = new DriverApi.LaunchConfig
            {
                GridX = grid.X, GridY = grid.Y, GridZ = grid.Z,
                BlockX = block.X, BlockY = block.Y, BlockZ = block.Z,
                SharedMemBytes = (uint)dynamicSharedBytes,
                Stream = s,
                Attributes = attributes,
                AttributeCount = count,
            };
            api = nameof(DriverApi.cuLaunchKernelEx);
            try
            {
                rc = DriverApi.cuLaunchKernelEx(&config, _function, arguments, null);
            }
            catch (EntryPointNotFoundException)
            {
                s_extendedLaunch = false;
                if (clusterX > 1)
                    throw new CudaException($"cuLaunchKernelEx({Name}): the driver has no extended launch, which clusters of {clusterX} CTAs need",
                        DriverApi.CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported");
                api = nameof(DriverApi.cuLaunchKernel);
                rc = DriverApi.cuLaunchKernel(_function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, (uint)dynamicSharedBytes, s, arguments, null);
            }
        }
        else
        {
            api = nameof(DriverApi.cuLaunchKernel);
            rc = DriverApi.cuLaunchKernel(_function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, (uint)dynamicSharedBytes, s, arguments, null);
        }
        if (rc != DriverApi.CUDA_SUCCESS)
            throw new CudaException($"{api}({Name}, grid {grid.X}x{grid.Y}x{grid.Z}, block {block.X}x{block.Y}x{block.Z}, smem {dynamicSharedBytes})",
                rc, Driver.ErrorName(rc), Driver.ErrorDescription(rc));
    }

    private static volatile bool s_extendedLaunch = true;

    internal static void ValidateCluster(Dim3 grid, uint clusterX)
    {
        if (clusterX is 0 or > 8)
            throw new ArgumentOutOfRangeException(nameof(clusterX), clusterX, "Expected a cluster of 1..8 CTAs (the portable limit).");
        if (grid.X % clusterX != 0)
            throw new ArgumentException($"grid.X = {grid.X} is not a multiple of the cluster size {clusterX}.", nameof(clusterX));
    }

    /// <summary>
    /// How many clusters of <paramref name="clusterX"/> CTAs of <paramref name="blockThreads"/> threads the whole GPU holds at
    /// once (cuOccupancyMaxActiveClusters, which knows that a cluster must fit in one GPC). Compute capability 9.0+.
    /// </summary>
    public unsafe int MaxActiveClusters(uint clusterX, int blockThreads, int dynamicSharedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockThreads, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(dynamicSharedBytes);
        ValidateCluster(new Dim3(clusterX), clusterX);
        _module.ThrowIfDisposed();
        _module.MakeCurrent();
        var attribute = new DriverApi.LaunchAttribute { Id = DriverApi.CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION, ClusterX = clusterX, ClusterY = 1, ClusterZ = 1 };
        var config = new DriverApi.LaunchConfig
        {
            GridX = clusterX, GridY = 1, GridZ = 1,
            BlockX = (uint)blockThreads, BlockY = 1, BlockZ = 1,
            SharedMemBytes = (uint)dynamicSharedBytes,
            Attributes = &attribute,
            AttributeCount = 1,
        };
        Driver.Check(DriverApi.cuOccupancyMaxActiveClusters(out int clusters, _function, &config), nameof(DriverApi.cuOccupancyMaxActiveClusters));
        return clusters;
    }

    /// <summary>How many CTAs of <paramref name="blockThreads"/> threads fit on one SM at once (cuOccupancyMaxActiveBlocksPerMultiprocessor).</summary>
    public int MaxActiveBlocksPerMultiprocessor(int blockThreads, int dynamicSharedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockThreads, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(dynamicSharedBytes);
        _module.ThrowIfDisposed();
        _module.MakeCurrent();
        Driver.Check(DriverApi.cuOccupancyMaxActiveBlocksPerMultiprocessor(out int blocks, _function, blockThreads, (nuint)dynamicSharedBytes),
            nameof(DriverApi.cuOccupancyMaxActiveBlocksPerMultiprocessor));
        return blocks;
    }

    internal static void ValidateLaunch(Dim3 grid, Dim3 block, int dynamicSharedBytes, int maxThreadsPerBlock)
    {
        if (grid.X == 0 || grid.Y == 0 || grid.Z == 0)
            throw new ArgumentOutOfRangeException(nameof(grid), grid, "Every grid dimension must be at least 1.");
        if (block.X == 0 || block.Y == 0 || block.Z == 0)
            throw new ArgumentOutOfRangeException(nameof(block), block, "Every block dimension must be at least 1.");
        if (block.Volume > (ulong)maxThreadsPerBlock)
            throw new ArgumentOutOfRangeException(nameof(block), block, $"The block has {block.Volume} threads; this kernel allows at most {maxThreadsPerBlock}.");
        ArgumentOutOfRangeException.ThrowIfNegative(dynamicSharedBytes);
    }

    private int Attribute(int attribute)
    {
        Driver.Check(DriverApi.cuFuncGetAttribute(out int value, attribute, _function), nameof(DriverApi.cuFuncGetAttribute));
        return value;
    }

    public override string ToString() => $"CudaFunction({Name}, {RegistersPerThread} regs, {StaticSharedBytes} B static smem)";
}
