using MarlinSharp.Cuda;

namespace MarlinSharp.Tests.Cuda;

/// <summary>Runs only on a machine with a CUDA GPU (compute capability 8.0+); skipped with the reason elsewhere.</summary>
public class GpuTests
{
    [Fact]
    public void DeviceInfoIsPopulated()
    {
        var ctx = Gpu.Context;
        var d = ctx.Device;
        Assert.False(string.IsNullOrWhiteSpace(d.Name));
        Assert.True(d.ComputeCapabilityMajor >= 8);
        Assert.Matches("^sm_[0-9]{2,3}$", d.Architecture);
        Assert.True(d.MultiprocessorCount > 0);
        Assert.True(d.L2CacheBytes > 0);
        Assert.True(d.TotalMemoryBytes > 0);
        Assert.True(d.MaxSharedMemoryPerBlockOptin >= 48 * 1024);
        Assert.True(d.DriverVersion >= 11080);
        Assert.True(CudaContext.DeviceCount >= 1);
        var (free, total) = ctx.MemoryInfo();
        Assert.InRange(free, 1, total);
        Assert.Equal(d.TotalMemoryBytes, total);
    }

    /// <summary>
    /// Streamless fills and copies, and disposing a runtime, on one thread while another captures a graph on the shared
    /// primary context: they used to wait with cuCtxSynchronize, which fails during any capture in the context and breaks
    /// that capture (seen as intermittent cuBLAS and decode-graph capture failures when test classes ran in parallel).
    /// </summary>
    [Fact]
    public void StreamlessOperationsAndRuntimeDisposalLeaveAnotherThreadsCaptureIntact()
    {
        var ctx = Gpu.Context;
        using var captured = ctx.CreateStream();
        using var target = ctx.Allocate<byte>(4096);
        using var other = ctx.Allocate<int>(1000);
        using var copy = ctx.Allocate<int>(1000);
        using var runtimeStream = ctx.CreateStream();
        Exception? failure = null;
        using var graph = captured.Capture(() =>
        {
            target.FillBytes(0x5A, captured);
            var worker = new Thread(() =>
            {
                try
                {
                    other.Fill32(0x01020304);
                    copy.CopyFromDevice(other.AsSpan());
                    other.FillBytes(7);
                    var runtime = MarlinRuntime.ForContext(ctx);
                    runtime.ScratchVersion(runtimeStream);
                    runtime.Dispose();
                }
                catch (Exception e) { failure = e; }
            });
            worker.Start();
            worker.Join();
            target.Fill32(0x11223344, captured);
        });
        Assert.Null(failure);
        graph.Launch(captured);
        captured.Synchronize();
        Assert.All(target.ToArray().Chunk(4), w => Assert.Equal(new byte[] { 0x44, 0x33, 0x22, 0x11 }, w));
        Assert.All(copy.ToArray(), v => Assert.Equal(0x01020304, v));
        Assert.All(other.ToArray(), v => Assert.Equal(0x07070707, v));
    }

    [Fact]
    public void UploadMemsetCopyRoundTrip()
    {
        var ctx = Gpu.Context;
        var rng = new Random(1234);
        var data = new float[10_001];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();

        using var buffer = ctx.Upload<float>(data);
        Assert.Equal(data.Length, buffer.Length);
        Assert.Equal(data.Length * 4L, buffer.SizeInBytes);
        Assert.Equal(data, buffer.ToArray());

        // Partial copies with offsets.
        var part = new float[100];
        buffer.CopyTo(part, 500);
        Assert.Equal(data.AsSpan(500, 100).ToArray(), part);
        buffer.CopyFrom(new float[] { -1f, -2f }, 9_999);
        Assert.Equal(new[] { -1f, -2f }, buffer.ToArray()[9_999..]);

        buffer.Fill32(BitConverter.SingleToUInt32Bits(2.5f));
        Assert.All(buffer.ToArray(), v => Assert.Equal(2.5f, v));

        using var bytes = ctx.Allocate<byte>(333);
        bytes.FillBytes(0xAB);
        Assert.All(bytes.ToArray(), v => Assert.Equal(0xAB, v));
        Assert.Throws<InvalidOperationException>(() => bytes.Fill32(1));

        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.CopyFrom(new float[3], 9_999));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.CopyTo(new float[2], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ctx.Allocate<float>(0));
    }

    [Fact]
    public void AsyncMemsetAndDeviceCopyOnStream()
    {
        var ctx = Gpu.Context;
        using var stream = ctx.CreateStream();
        using var src = ctx.Allocate<int>(4096);
        using var dst = ctx.Allocate<int>(8192);
        src.Fill32(7, stream);
        dst.FillBytes(0, stream);
        dst.CopyFromDevice(src.Slice(1024, 2048), stream);
        stream.Synchronize();

        var result = dst.ToArray();
        Assert.All(result[..2048], v => Assert.Equal(7, v));
        Assert.All(result[2048..], v => Assert.Equal(0, v));
        Assert.Throws<ArgumentException>(() => src.CopyFromDevice(dst));
    }

    [Fact]
    public void EventsMeasurePositiveTime()
    {
        var ctx = Gpu.Context;
        using var stream = ctx.CreateStream();
        using var start = ctx.CreateEvent();
        using var end = ctx.CreateEvent();
        using var big = ctx.Allocate<byte>(256L << 20);

        start.Record(stream);
        for (int i = 0; i < 4; i++) big.FillBytes((byte)i, stream);
        end.Record(stream);
        end.Synchronize();

        Assert.True(end.IsCompleted);
        float ms = CudaEvent.ElapsedMilliseconds(start, end);
        Assert.True(ms > 0, $"elapsed {ms} ms");
        Assert.True(ms < 10_000, $"elapsed {ms} ms");
    }

    [Fact]
    public void SynchronisationOnlyEventsOrderWorkButRefuseTiming()
    {
        var ctx = Gpu.Context;
        using var stream = ctx.CreateStream();
        using var timed = ctx.CreateEvent();
        using var done = ctx.CreateEvent(timing: false);
        using var big = ctx.Allocate<byte>(256L << 20);
        Assert.True(timed.HasTiming);
        Assert.False(done.HasTiming);

        timed.Record(stream);
        for (int i = 0; i < 4; i++) big.FillBytes((byte)(i + 1), stream);
        done.Record(stream);
        done.Synchronize();
        Assert.True(done.IsCompleted);
        var tail = new byte[16];
        big.CopyTo(tail, (256L << 20) - 16);
        Assert.All(tail, b => Assert.Equal(4, b));   // the last fill had finished when the event completed
        Assert.Contains("without timing", Assert.Throws<ArgumentException>(() => CudaEvent.ElapsedMilliseconds(timed, done)).Message);
    }

    [Fact]
    public unsafe void NvrtcKernelLoadsAndAddsArrays()
    {
        var ctx = Gpu.Context;
        NvrtcRequirement.Require();
        byte[] cubin = Nvrtc.Compile(TestKernels.AddSource, "add.cu", ctx.Device.Architecture, []).Cubin;

        using var module = ctx.LoadModule(cubin);
        var fn = module.GetFunction("add_f32");
        Assert.Equal("add_f32", fn.Name);
        Assert.Same(fn, module.GetFunction("add_f32"));
        Assert.True(fn.RegistersPerThread > 0);
        Assert.True(fn.MaxThreadsPerBlock >= 256);
        var missing = Assert.Throws<CudaException>(() => module.GetFunction("no_such_kernel"));
        Assert.Equal("CUDA_ERROR_NOT_FOUND", missing.ErrorName);

        const int n = 100_003;
        var a = new float[n];
        var b = new float[n];
        for (int i = 0; i < n; i++) { a[i] = i * 0.5f; b[i] = 1000f - i; }
        using var da = ctx.Upload<float>(a);
        using var db = ctx.Upload<float>(b);
        using var dc = ctx.Allocate<float>(n);
        dc.Fill32(0);
        using var stream = ctx.CreateStream();

        ulong pa = da.Pointer, pb = db.Pointer, pc = dc.Pointer;
        int count = n;
        void** args = stackalloc void*[4];
        args[0] = &pa; args[1] = &pb; args[2] = &pc; args[3] = &count;
        fn.Launch(new Dim3((uint)((n + 255) / 256)), new Dim3(256), 0, stream, args);
        stream.Synchronize();

        var c = dc.ToArray();
        for (int i = 0; i < n; i++) Assert.Equal(a[i] + b[i], c[i]);

        fn.SetMaxDynamicSharedMemory(64 * 1024);
        Assert.Equal(64 * 1024, fn.MaxDynamicSharedMemory);
        Assert.Throws<ArgumentOutOfRangeException>(() => fn.Launch(new Dim3(1), new Dim3(2048), 0, stream, args));

        module.Dispose();
        Assert.Throws<ObjectDisposedException>(() => fn.Launch(new Dim3(1), new Dim3(32), 0, stream, args));
    }

    [Fact]
    public void CublasLinearMatchesCpuReference()
    {
        var ctx = Gpu.Context;
        if (!CublasHandle.IsAvailable(out string reason)) Assert.Skip($"No cuBLAS: {reason}");
        const int m = 37, n = 96, k = 200;
        var rng = new Random(42);
        Half[] Random(int count) => Enumerable.Range(0, count).Select(_ => (Half)(rng.NextDouble() * 2 - 1)).ToArray();
        var x = Random(m * k);
        var w = Random(n * k);

        using var blas = new CublasHandle(ctx);
        using var stream = ctx.CreateStream();
        using var dx = ctx.Upload<Half>(x);
        using var dw = ctx.Upload<Half>(w);
        using var dy = ctx.Allocate<Half>(m * n);
        blas.LinearFp16(dx, dw, dy, m, n, k, stream);
        stream.Synchronize();
        var y = dy.ToArray();

        double errSq = 0, refSq = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double acc = 0;
                for (int t = 0; t < k; t++) acc += (double)x[i * k + t] * (double)w[j * k + t];
                double diff = (double)y[i * n + j] - acc;
                errSq += diff * diff;
                refSq += acc * acc;
            }
        double relative = Math.Sqrt(errSq / refSq);
        Assert.True(relative < 1e-3, $"relative error {relative}");
    }

    [Theory]
    [InlineData(1, 256, 512, false)]
    [InlineData(1, 512, 1024, true)]
    [InlineData(16, 384, 512, true)]
    [InlineData(5, 192, 320, false)]
    public void EveryCublasLtCandidateMatchesTheFloat64Reference(int m, int n, int k, bool accumulate)
    {
        var ctx = Gpu.Context;
        if (!CublasHandle.IsAvailable(out string reason)) Assert.Skip($"No cuBLAS: {reason}");
        int seed = System.Random.Shared.Next();
        var rng = new Random(seed);
        Half[] Random(int count) => Enumerable.Range(0, count).Select(_ => (Half)(rng.NextDouble() * 2 - 1)).ToArray();
        var x = Random(m * k);
        var w = Random(n * k);
        var y0 = Random(m * n);
        var expected = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double acc = accumulate ? (double)y0[i * n + j] : 0;
                for (int t = 0; t < k; t++) acc += (double)x[i * k + t] * (double)w[j * k + t];
                expected[i * n + j] = acc;
            }

        using var blas = new CublasHandle(ctx);
        using var workspace = ctx.Allocate<byte>(32L << 20);
        blas.UseWorkspace(workspace);
        using var stream = ctx.CreateStream();
        using var dx = ctx.Upload<Half>(x);
        using var dw = ctx.Upload<Half>(w);
        using var dy = ctx.Allocate<Half>(m * n);
        using var plan = new CublasLtLinearPlan(ctx, m, n, k, workspace.Length);
        Assert.InRange(plan.CandidateCount, 1, CublasLtLinearPlan.MaxCandidates);
        for (int c = 0; c < plan.CandidateCount; c++)
        {
            if (plan.WorkspaceBytes(c) > workspace.Length) continue;
            dy.CopyFrom(y0);
            blas.LinearFp16(plan, c, dx, dw, dy, stream, accumulate);
            stream.Synchronize();
            var y = dy.ToArray();
            double worst = 0;
            for (int i = 0; i < y.Length; i++) worst = Math.Max(worst, Math.Abs((double)y[i] - expected[i]) / (1 + Math.Abs(expected[i])));
            var (splitK, scheme) = plan.Describe(c);
            Assert.True(worst < 4e-3, $"seed {seed}, candidate {c} (split-K {splitK}, reduction {scheme}): relative error {worst}");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => blas.LinearFp16(plan, plan.CandidateCount, dx, dw, dy, stream));
        using var shortY = ctx.Allocate<Half>(m * n - 1);
        Assert.Throws<ArgumentException>(() => blas.LinearFp16(plan, 0, dx, dw, shortY, stream));
    }

    [Fact]
    public void CublasStridedBatchedMatchesCpuReference()
    {
        var ctx = Gpu.Context;
        if (!CublasHandle.IsAvailable(out string reason)) Assert.Skip($"No cuBLAS: {reason}");
        const int batch = 3, m = 8, n = 24, k = 16;
        var rng = new Random(7);
        Half[] Random(int count) => Enumerable.Range(0, count).Select(_ => (Half)(rng.NextDouble() * 2 - 1)).ToArray();
        var a = Random(batch * m * k);
        var b = Random(batch * k * n); // row-major [k,n] per batch

        using var blas = new CublasHandle(ctx);
        using var stream = ctx.CreateStream();
        using var da = ctx.Upload<Half>(a);
        using var db = ctx.Upload<Half>(b);
        using var dc = ctx.Allocate<Half>(batch * m * n);
        blas.GemmStridedBatchedFp16(da, db, dc, m, n, k, batch, m * k, k * n, m * n, transposeB: false, stream);
        stream.Synchronize();
        var c = dc.ToArray();

        double errSq = 0, refSq = 0;
        for (int p = 0; p < batch; p++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double acc = 0;
                    for (int t = 0; t < k; t++) acc += (double)a[p * m * k + i * k + t] * (double)b[p * k * n + t * n + j];
                    double diff = (double)c[p * m * n + i * n + j] - acc;
                    errSq += diff * diff;
                    refSq += acc * acc;
                }
        Assert.True(Math.Sqrt(errSq / refSq) < 1e-3);
    }

    [Fact]
    public void ContextWorksFromManyThreads()
    {
        var ctx = Gpu.Context;
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            try
            {
                var data = Enumerable.Range(0, 1000).Select(i => i * 31 + t).ToArray();
                using var buf = ctx.Upload<int>(data);
                using var stream = ctx.CreateStream();
                buf.Fill32((uint)t, stream);
                stream.Synchronize();
                if (buf.ToArray().Any(v => v != t)) throw new InvalidOperationException($"thread {t}: wrong data");
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        })).ToList();
        threads.ForEach(th => th.Start());
        threads.ForEach(th => th.Join());
        Assert.Empty(errors);
    }

    [Fact]
    public void DisposedObjectsThrowObjectDisposed()
    {
        var ctx = Gpu.Context;
        var buffer = ctx.Allocate<float>(16);
        var stream = ctx.CreateStream();
        var ev = ctx.CreateEvent();
        buffer.Dispose();
        stream.Dispose();
        ev.Dispose();
        buffer.Dispose(); // idempotent

        Assert.True(buffer.IsDisposed);
        Assert.True(stream.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => buffer.Pointer);
        Assert.Throws<ObjectDisposedException>(() => { DeviceSpan<float> s = buffer; });
        Assert.Throws<ObjectDisposedException>(() => buffer.ToArray());
        Assert.Throws<ObjectDisposedException>(() => stream.Handle);
        Assert.Throws<ObjectDisposedException>(() => stream.Synchronize());
        Assert.Throws<ObjectDisposedException>(() => ev.Synchronize());
        Assert.Throws<ArgumentNullException>(() => { DeviceSpan<float> s = (DeviceBuffer<float>)null!; });
    }

    [Fact]
    public void BuffersOutliveTheirContextObject()
    {
        Gpu.RequireDevice();
        var own = CudaContext.Create(0);
        var buffer = own.Upload<int>(new[] { 1, 2, 3 });
        own.Dispose();
        Assert.Throws<ObjectDisposedException>(() => own.Allocate<int>(1));
        Assert.Equal(new[] { 1, 2, 3 }, buffer.ToArray()); // the primary context is still retained by the buffer
        buffer.Dispose();
    }
}
