namespace MarlinSharp.Cuda;

/// <summary>The result of a successful NVRTC compilation: the CUBIN image and the (possibly empty) compiler log.</summary>
public sealed record NvrtcOutput(byte[] Cubin, string Log);
