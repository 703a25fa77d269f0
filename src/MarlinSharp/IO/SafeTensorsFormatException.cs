namespace MarlinSharp.IO;

/// <summary>A safetensors file is malformed; the message names the file and the offending field.</summary>
public sealed class SafeTensorsFormatException : Exception
{
    /// <summary>Creates the exception; <paramref name="message"/> is prefixed with the file path.</summary>
    public SafeTensorsFormatException(string filePath, string message, Exception? innerException = null)
        : base($"Invalid safetensors file '{filePath}': {message}", innerException)
    {
        FilePath = filePath;
    }

    /// <summary>The file that failed validation.</summary>
    public string FilePath { get; }
}
