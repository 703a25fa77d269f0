namespace MarlinSharp.Models.Engine;

/// <summary>Hands out KV-cache slots (0 .. Capacity-1), lowest free slot first. Not thread-safe.</summary>
public sealed class KvSlotAllocator
{
    private readonly bool[] _used;

    public KvSlotAllocator(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _used = new bool[capacity];
    }

    public int Capacity => _used.Length;
    public int InUse { get; private set; }
    public int Available => Capacity - InUse;

    public bool TryAllocate(out int slot)
    {
        for (slot = 0; slot < _used.Length; slot++)
        {
            if (_used[slot]) continue;
            _used[slot] = true;
            InUse++;
            return true;
        }
        slot = -1;
        return false;
    }

    public bool IsAllocated(int slot) => slot >= 0 && slot < _used.Length && _used[slot];

    /// <exception cref="InvalidOperationException">The slot is not allocated (double release).</exception>
    public void Release(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, _used.Length);
        if (!_used[slot]) throw new InvalidOperationException($"KV slot {slot} is not allocated.");
        _used[slot] = false;
        InUse--;
    }
}
