using System.Runtime.InteropServices;

namespace MarlinSharp.Cuda.Native;

/// <summary>Raw CUDA driver API entry points (libcuda). All return CUresult.</summary>
internal static unsafe partial class DriverApi
{
    private const string Lib = NativeLibraries.DriverName;

    internal const int CUDA_SUCCESS = 0;
    internal const int CUDA_ERROR_NOT_SUPPORTED = 801;
    internal const int CUDA_ERROR_NOT_READY = 600;

    // CUdevice_attribute
    internal const int AttrMaxThreadsPerBlock = 1;
    internal const int AttrMultiprocessorCount = 16;
    internal const int AttrMemoryClockRate = 36;
    internal const int AttrGlobalMemoryBusWidth = 37;
    internal const int AttrL2CacheSize = 38;
    internal const int AttrComputeCapabilityMajor = 75;
    internal const int AttrComputeCapabilityMinor = 76;
    internal const int AttrMaxSharedMemoryPerBlockOptin = 97;

    // CUfunction_attribute
    internal const int FuncAttrMaxThreadsPerBlock = 0;
    internal const int FuncAttrSharedSizeBytes = 1;
    internal const int FuncAttrLocalSizeBytes = 3;
    internal const int FuncAttrNumRegs = 4;
    internal const int FuncAttrMaxDynamicSharedSizeBytes = 8;

    internal const uint CU_STREAM_NON_BLOCKING = 1;
    internal const uint CU_EVENT_DEFAULT = 0;
    internal const uint CU_EVENT_DISABLE_TIMING = 2;
    internal const uint CU_MEMHOSTALLOC_DEVICEMAP = 2;

    // CUstreamCaptureMode
    internal const int CU_STREAM_CAPTURE_MODE_GLOBAL = 0;
    internal const int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
    internal const int CU_STREAM_CAPTURE_MODE_RELAXED = 2;

    /// <summary>Entry points that must exist for this binding to work (checked before first use).</summary>
    internal static readonly string[] RequiredExports =
    [
        "cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName", "cuDeviceGetAttribute",
        "cuDeviceTotalMem_v2", "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2", "cuCtxSetCurrent",
        "cuCtxSynchronize", "cuMemAlloc_v2", "cuMemFree_v2", "cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2", "cuMemcpyDtoD_v2",
        "cuMemcpyDtoDAsync_v2", "cuMemcpyHtoDAsync_v2", "cuMemHostAlloc", "cuMemFreeHost", "cuMemHostGetDevicePointer_v2", "cuMemsetD8_v2", "cuMemsetD8Async", "cuMemsetD32_v2", "cuMemsetD32Async",
        "cuMemGetInfo_v2", "cuStreamCreate", "cuStreamDestroy_v2", "cuStreamSynchronize", "cuEventCreate",
        "cuEventRecord", "cuEventSynchronize", "cuEventQuery", "cuEventElapsedTime", "cuEventDestroy_v2",
        "cuModuleLoadData", "cuModuleUnload", "cuModuleGetFunction", "cuFuncGetAttribute", "cuFuncSetAttribute",
        "cuLaunchKernel", "cuGetErrorName", "cuGetErrorString",
    ];

    static DriverApi() => NativeLibraries.EnsureRegistered();

    [LibraryImport(Lib)] internal static partial int cuInit(uint flags);
    [LibraryImport(Lib)] internal static partial int cuDriverGetVersion(out int version);
    [LibraryImport(Lib)] internal static partial int cuGetErrorName(int error, out nint name);
    [LibraryImport(Lib)] internal static partial int cuGetErrorString(int error, out nint text);

    [LibraryImport(Lib)] internal static partial int cuDeviceGetCount(out int count);
    [LibraryImport(Lib)] internal static partial int cuDeviceGet(out int device, int ordinal);
    [LibraryImport(Lib)] internal static partial int cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Lib)] internal static partial int cuDeviceGetAttribute(out int value, int attribute, int device);
    [LibraryImport(Lib)] internal static partial int cuDeviceTotalMem_v2(out nuint bytes, int device);

    [LibraryImport(Lib)] internal static partial int cuDevicePrimaryCtxRetain(out nint context, int device);
    [LibraryImport(Lib)] internal static partial int cuDevicePrimaryCtxRelease_v2(int device);
    [LibraryImport(Lib)] internal static partial int cuCtxSetCurrent(nint context);
    [LibraryImport(Lib)] internal static partial int cuCtxSynchronize();

    [LibraryImport(Lib)] internal static partial int cuMemAlloc_v2(out ulong pointer, nuint bytes);
    [LibraryImport(Lib)] internal static partial int cuMemFree_v2(ulong pointer);
    [LibraryImport(Lib)] internal static partial int cuMemGetInfo_v2(out nuint free, out nuint total);
    [LibraryImport(Lib)] internal static partial int cuMemcpyHtoD_v2(ulong destination, void* source, nuint bytes);
    [LibraryImport(Lib)] internal static partial int cuMemcpyDtoH_v2(void* destination, ulong source, nuint bytes);
    [LibraryImport(Lib)] internal static partial int cuMemcpyDtoD_v2(ulong destination, ulong source, nuint bytes);
    [LibraryImport(Lib)] internal static partial int cuMemcpyDtoDAsync_v2(ulong destination, ulong source, nuint bytes, nint stream);
    [LibraryImport(Lib)] internal static partial int cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, nint stream);
    [LibraryImport(Lib)] internal static partial int cuMemHostAlloc(out nint pointer, nuint bytes, uint flags);
    [LibraryImport(Lib)] internal static partial int cuMemFreeHost(nint pointer);
    [LibraryImport(Lib)] internal static partial int cuMemHostGetDevicePointer_v2(out ulong devicePointer, nint hostPointer, uint flags);
    [LibraryImport(Lib)] internal static partial int cuMemsetD8_v2(ulong destination, byte value, nuint count);
    [LibraryImport(Lib)] internal static partial int cuMemsetD8Async(ulong destination, byte value, nuint count, nint stream);
    [LibraryImport(Lib)] internal static partial int cuMemsetD32_v2(ulong destination, uint value, nuint count);
    [LibraryImport(Lib)] internal static partial int cuMemsetD32Async(ulong destination, uint value, nuint count, nint stream);

    [LibraryImport(Lib)] internal static partial int cuStreamCreate(out nint stream, uint flags);
    [LibraryImport(Lib)] internal static partial int cuStreamDestroy_v2(nint stream);
    [LibraryImport(Lib)] internal static partial int cuStreamSynchronize(nint stream);

    // Extended launch (CUDA 11.8+; not in RequiredExports: without it every launch is a plain cuLaunchKernel).
    internal const int CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4;
    internal const int CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6;

    /// <summary>CUlaunchConfig (x86-64 layout: the stream handle sits at offset 32).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct LaunchConfig
    {
        public uint GridX, GridY, GridZ, BlockX, BlockY, BlockZ, SharedMemBytes;
        public nint Stream;
        public LaunchAttribute* Attributes;
        public uint AttributeCount;
    }

    /// <summary>
    /// CUlaunchAttribute: a 4-byte id, padding to 8, then a 64-byte value union. Used here: its first int (a flag) or
    /// its first three uints (clusterDim x, y, z).
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 72)]
    internal struct LaunchAttribute
    {
        [FieldOffset(0)] public int Id;
        [FieldOffset(8)] public int Value;
        [FieldOffset(8)] public uint ClusterX;
        [FieldOffset(12)] public uint ClusterY;
        [FieldOffset(16)] public uint ClusterZ;
    }

    [LibraryImport(Lib)] internal static partial int cuOccupancyMaxActiveClusters(out int clusters, nint function, LaunchConfig* config);
    [LibraryImport(Lib)] internal static partial int cuLaunchKernelEx(LaunchConfig* config, nint function, void** kernelParams, void** extra);

    // Graphs (CUDA 11.4+; not in RequiredExports so that older drivers can still run everything else).
    [LibraryImport(Lib)] internal static partial int cuStreamBeginCapture_v2(nint stream, int mode);
    [LibraryImport(Lib)] internal static partial int cuStreamEndCapture(nint stream, out nint graph);
    [LibraryImport(Lib)] internal static partial int cuGraphInstantiateWithFlags(out nint graphExec, nint graph, ulong flags);
    [LibraryImport(Lib)] internal static partial int cuGraphGetNodes(nint graph, nint* nodes, ref nuint count);
    [LibraryImport(Lib)] internal static partial int cuGraphLaunch(nint graphExec, nint stream);
    [LibraryImport(Lib)] internal static partial int cuGraphExecDestroy(nint graphExec);
    [LibraryImport(Lib)] internal static partial int cuGraphDestroy(nint graph);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial int cuGraphDebugDotPrint(nint graph, string path, uint flags);

    [LibraryImport(Lib)] internal static partial int cuEventCreate(out nint @event, uint flags);
    [LibraryImport(Lib)] internal static partial int cuEventRecord(nint @event, nint stream);
    [LibraryImport(Lib)] internal static partial int cuEventSynchronize(nint @event);
    [LibraryImport(Lib)] internal static partial int cuEventQuery(nint @event);
    [LibraryImport(Lib)] internal static partial int cuEventElapsedTime(out float milliseconds, nint start, nint end);
    [LibraryImport(Lib)] internal static partial int cuEventDestroy_v2(nint @event);

    [LibraryImport(Lib)] internal static partial int cuModuleLoadData(out nint module, void* image);
    [LibraryImport(Lib)] internal static partial int cuModuleUnload(nint module);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int cuModuleGetFunction(out nint function, nint module, string name);
    [LibraryImport(Lib)] internal static partial int cuFuncGetAttribute(out int value, int attribute, nint function);
    [LibraryImport(Lib)] internal static partial int cuOccupancyMaxActiveBlocksPerMultiprocessor(out int blocks, nint function, int blockSize, nuint dynamicSharedBytes);
    [LibraryImport(Lib)] internal static partial int cuFuncSetAttribute(nint function, int attribute, int value);

    [LibraryImport(Lib)]
    internal static partial int cuLaunchKernel(
        nint function,
        uint gridX, uint gridY, uint gridZ,
        uint blockX, uint blockY, uint blockZ,
        uint sharedMemBytes, nint stream, void** kernelParams, void** extra);
}
