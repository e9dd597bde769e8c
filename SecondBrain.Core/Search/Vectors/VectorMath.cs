using System.Collections;
using System.Numerics;
using System.Runtime.InteropServices;

namespace SecondBrain.Core.Search.Vectors;

internal static class VectorMath
{
    /// <summary>Sign-bit quantisation: bit i is set when component i is positive.</summary>
    public static BitArray SignBits(ReadOnlySpan<float> vector)
    {
        var bits = new BitArray(vector.Length);
        for (var i = 0; i < vector.Length; i++)
        {
            bits[i] = vector[i] > 0f;
        }

        return bits;
    }

    /// <summary>Cosine similarity; callers usually pass unit vectors, but normalising here keeps scores honest when they do not.</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Vectors of {a.Length} and {b.Length} dimensions cannot be compared.");
        }

        var dot = Vector<float>.Zero;
        var na = Vector<float>.Zero;
        var nb = Vector<float>.Zero;
        var width = Vector<float>.Count;
        var va = MemoryMarshal.Cast<float, Vector<float>>(a);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
        for (var i = 0; i < va.Length; i++)
        {
            dot += va[i] * vb[i];
            na += va[i] * va[i];
            nb += vb[i] * vb[i];
        }

        double d = Vector.Sum(dot), x = Vector.Sum(na), y = Vector.Sum(nb);
        for (var i = va.Length * width; i < a.Length; i++)
        {
            d += a[i] * b[i];
            x += a[i] * a[i];
            y += b[i] * b[i];
        }

        return x == 0 || y == 0 ? 0 : d / Math.Sqrt(x * y);
    }

    public static void RequireFinite(ReadOnlySpan<float> vector, string what)
    {
        if (vector.Length == 0)
        {
            throw new ArgumentException($"The {what} vector is empty.");
        }

        foreach (var value in vector)
        {
            if (!float.IsFinite(value))
            {
                throw new ArgumentException($"The {what} vector contains a value that is not a finite number.");
            }
        }
    }
}
