using MarlinSharp.Models.Configuration;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// The rotary-embedding cos/sin tables, FP32 [positions][head_dim/2], computed on the host the way Hugging Face
/// does it in FP32: inverse frequencies theta^(-2i/d) (then llama3 or linear scaling), angle = position × frequency
/// rounded to FP32, and the cosine and sine of that angle.
/// </summary>
public static class RopeTable
{
    /// <summary>The (scaled) inverse frequencies, one per rotated pair, as FP32 values.</summary>
    public static float[] InverseFrequencies(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int d = config.HeadDim, half = d / 2;
        var inv = new float[half];
        for (int i = 0; i < half; i++)
        {
            float exponent = (float)(2 * i) / d;
            float f = (float)(1.0 / (float)Math.Pow(config.RopeTheta, exponent));
            inv[i] = Scale(f, config.RopeScaling);
        }
        return inv;
    }

    private static float Scale(float inv, RopeScaling? scaling)
    {
        if (scaling is null) return inv;
        switch (scaling.Type)
        {
            case "linear":
                return (float)(inv / scaling.Factor);
            case "llama3":
            {
                double wavelength = 2 * Math.PI / inv;
                double lowWavelength = scaling.OriginalMaxPositionEmbeddings / scaling.LowFreqFactor;
                double highWavelength = scaling.OriginalMaxPositionEmbeddings / scaling.HighFreqFactor;
                if (wavelength > lowWavelength) return (float)(inv / scaling.Factor);
                if (wavelength < highWavelength) return inv;
                double smooth = (scaling.OriginalMaxPositionEmbeddings / wavelength - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
                return (float)((1 - smooth) * inv / scaling.Factor + smooth * inv);
            }
            default:
                throw new NotSupportedException($"RoPE scaling type \"{scaling.Type}\" is not supported (llama3, linear).");
        }
    }

    /// <summary>cos and sin tables [positions][head_dim/2] for positions 0..positions-1.</summary>
    public static (float[] Cos, float[] Sin) Compute(LlamaConfig config, int positions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(positions, 1);
        float[] inv = InverseFrequencies(config);
        int half = inv.Length;
        var cos = new float[(long)positions * half];
        var sin = new float[cos.Length];
        for (int p = 0; p < positions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                float angle = p * inv[i];
                cos[(long)p * half + i] = (float)Math.Cos(angle);
                sin[(long)p * half + i] = (float)Math.Sin(angle);
            }
        }
        return (cos, sin);
    }
}
