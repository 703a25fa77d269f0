using System.Runtime.CompilerServices;

namespace MarlinSharp.Cuda;

/// <summary>
/// A typed view of device memory: a device address and an element count. It does not own the memory;
/// keep the <see cref="DeviceBuffer{T}"/> it came from alive while the span is in use.
/// </summary>
public readonly struct DeviceSpan<T> : IEquatable<DeviceSpan<T>> where T : unmanaged
{
    internal DeviceSpan(ulong pointer, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length > 0 && pointer == 0)
            throw new ArgumentException("A non-empty device span needs a non-null pointer.", nameof(pointer));
        Pointer = pointer;
        Length = length;
    }

    /// <summary>Device address of the first element (0 for the default, empty span).</summary>
    public ulong Pointer { get; }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Length × sizeof(T).</summary>
    public long SizeInBytes => Length * Unsafe.SizeOf<T>();

    public bool IsEmpty => Length == 0;

    /// <summary>Elements [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>).</summary>
    public DeviceSpan<T> Slice(long offset, long length)
    {
        CheckRange(offset, length, Length);
        return new DeviceSpan<T>(Pointer + (ulong)(offset * Unsafe.SizeOf<T>()), length);
    }

    /// <summary>Elements from <paramref name="offset"/> to the end.</summary>
    public DeviceSpan<T> Slice(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length);
        return Slice(offset, Length - offset);
    }

    internal static void CheckRange(long offset, long length, long available)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > available || length > available - offset)
            throw new ArgumentOutOfRangeException(nameof(length),
                $"Range [{offset}, {offset} + {length}) exceeds the {available} available elements.");
    }

    public bool Equals(DeviceSpan<T> other) => Pointer == other.Pointer && Length == other.Length;
    public override bool Equals(object? obj) => obj is DeviceSpan<T> other && Equals(other);
    public override int GetHashCode() => HashCode.Combine(Pointer, Length);
    public static bool operator ==(DeviceSpan<T> left, DeviceSpan<T> right) => left.Equals(right);
    public static bool operator !=(DeviceSpan<T> left, DeviceSpan<T> right) => !left.Equals(right);

    public override string ToString() => $"DeviceSpan<{typeof(T).Name}>(0x{Pointer:x}, {Length})";
}
