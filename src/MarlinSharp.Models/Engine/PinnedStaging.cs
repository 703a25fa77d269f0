using MarlinSharp.Cuda;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// Page-locked host buffers taken in turn for asynchronous copies on one stream, each with an event recorded after the
/// copy that used it, so that a buffer is rewritten (or read) only once that copy has run. With two buffers the host
/// prepares one step's metadata, or reads one step's tokens, while the other step's copy is still queued.
/// </summary>
internal sealed class PinnedStaging : IDisposable
{
    private readonly PinnedHostBuffer<int>[] _buffers;
    private readonly CudaEvent[] _copied;
    private readonly bool[] _pending;
    private int _next;

    public PinnedStaging(CudaContext context, int buffers, int length)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfLessThan(buffers, 1);
        _buffers = new PinnedHostBuffer<int>[buffers];
        _copied = new CudaEvent[buffers];
        _pending = new bool[buffers];
        try
        {
            for (int i = 0; i < buffers; i++)
            {
                _buffers[i] = context.AllocatePinned<int>(length);
                _copied[i] = context.CreateEvent(timing: false);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Takes the next buffer in turn, after the copy that used it last has run.</summary>
    public int Take()
    {
        int index = _next;
        _next = (_next + 1) % _buffers.Length;
        Wait(index);
        return index;
    }

    public PinnedHostBuffer<int> Buffer(int index) => _buffers[index];

    /// <summary>Records, after the copy just queued with buffer <paramref name="index"/>, the event that <see cref="Wait"/> waits for.</summary>
    public void Recorded(int index, CudaStream stream)
    {
        _copied[index].Record(stream);
        _pending[index] = true;
    }

    /// <summary>Blocks until the copy last queued with buffer <paramref name="index"/> has run.</summary>
    public void Wait(int index)
    {
        if (!_pending[index]) return;
        _copied[index].Synchronize();
        _pending[index] = false;
    }

    public void Dispose()
    {
        foreach (var e in _copied) e?.Dispose();
        foreach (var b in _buffers) b?.Dispose();
    }
}
