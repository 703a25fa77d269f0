using System.Runtime.InteropServices;
using System.Text;

namespace MarlinSharp.Models.Tokenization;

/// <summary>
/// Unicode normalization that works even when the process runs with InvariantGlobalization
/// (where <see cref="string.Normalize(NormalizationForm)"/> is a no-op): calls ICU's unorm2 API
/// directly when the library can be found, otherwise uses the framework.
/// </summary>
internal static unsafe class UnicodeNormalization
{
    private static readonly Lazy<IcuApi?> Icu = new(IcuApi.TryLoad);

    public static string Normalize(string text, NormalizationForm form)
    {
        if (text.Length == 0) return text;
        if (IsTriviallyNormalized(text, form)) return text;
        if (!GlobalizationIsInvariant()) return text.Normalize(form);
        var icu = Icu.Value ?? throw new NotSupportedException(
            $"Unicode normalization {form} is needed for non-ASCII text, but the process runs with InvariantGlobalization " +
            "and no ICU library (libicuuc / icu.dll) could be loaded.");
        return icu.Normalize(text, form);
    }

    private static bool IsTriviallyNormalized(string text, NormalizationForm form)
    {
        // ASCII is stable under every form. Everything below U+0300 (Latin-1, Latin Extended) is also stable under
        // NFC; it is not under NFD (precomposed letters decompose) or the compatibility forms (U+00A0 maps to a space).
        int limit = form == NormalizationForm.FormC ? 0x300 : 0x80;
        foreach (char c in text) if (c >= limit) return false;
        return true;
    }

    private static bool? _invariant;
    private static bool GlobalizationIsInvariant()
    {
        if (_invariant is bool b) return b;
        // In invariant mode the framework returns the input unchanged; detect with a known composition.
        bool inv = "e\u0301".Normalize(NormalizationForm.FormC).Length != 1;
        _invariant = inv;
        return inv;
    }

    private sealed class IcuApi
    {
        private readonly delegate* unmanaged<int*, IntPtr> _nfc, _nfd, _nfkc, _nfkd;
        private readonly delegate* unmanaged<IntPtr, char*, int, char*, int, int*, int> _normalize;

        private IcuApi(IntPtr nfc, IntPtr nfd, IntPtr nfkc, IntPtr nfkd, IntPtr normalize)
        {
            _nfc = (delegate* unmanaged<int*, IntPtr>)nfc;
            _nfd = (delegate* unmanaged<int*, IntPtr>)nfd;
            _nfkc = (delegate* unmanaged<int*, IntPtr>)nfkc;
            _nfkd = (delegate* unmanaged<int*, IntPtr>)nfkd;
            _normalize = (delegate* unmanaged<IntPtr, char*, int, char*, int, int*, int>)normalize;
        }

        public static IcuApi? TryLoad()
        {
            var candidates = new List<(string lib, string suffix)>();
            if (OperatingSystem.IsWindows()) { candidates.Add(("icu.dll", "")); candidates.Add(("icuuc.dll", "")); }
            else if (OperatingSystem.IsMacOS()) candidates.Add(("libicucore.dylib", ""));
            else
            {
                for (int v = 99; v >= 50; v--) candidates.Add(($"libicuuc.so.{v}", "_" + v));
                candidates.Add(("libicuuc.so", ""));
            }
            foreach (var (lib, suffix) in candidates)
            {
                if (!NativeLibrary.TryLoad(lib, out var h)) continue;
                foreach (var sfx in new[] { suffix, "" }.Distinct())
                {
                    if (NativeLibrary.TryGetExport(h, "unorm2_getNFCInstance" + sfx, out var nfc) &&
                        NativeLibrary.TryGetExport(h, "unorm2_getNFDInstance" + sfx, out var nfd) &&
                        NativeLibrary.TryGetExport(h, "unorm2_getNFKCInstance" + sfx, out var nfkc) &&
                        NativeLibrary.TryGetExport(h, "unorm2_getNFKDInstance" + sfx, out var nfkd) &&
                        NativeLibrary.TryGetExport(h, "unorm2_normalize" + sfx, out var norm))
                        return new IcuApi(nfc, nfd, nfkc, nfkd, norm);
                }
            }
            return null;
        }

        public string Normalize(string text, NormalizationForm form)
        {
            int err = 0;
            IntPtr inst = form switch
            {
                NormalizationForm.FormC => _nfc(&err),
                NormalizationForm.FormD => _nfd(&err),
                NormalizationForm.FormKC => _nfkc(&err),
                _ => _nfkd(&err),
            };
            if (err > 0 || inst == IntPtr.Zero) throw new InvalidOperationException($"ICU unorm2_get{form}Instance failed with error {err}");
            int capacity = text.Length * 3 + 16;
            while (true)
            {
                var buffer = new char[capacity];
                err = 0;
                int len;
                fixed (char* src = text)
                fixed (char* dst = buffer)
                    len = _normalize(inst, src, text.Length, dst, capacity, &err);
                if (err == 15 /* U_BUFFER_OVERFLOW_ERROR */ && len > capacity) { capacity = len; continue; }
                if (err > 0) throw new InvalidOperationException($"ICU unorm2_normalize failed with error {err}");
                return new string(buffer, 0, len);
            }
        }
    }
}
