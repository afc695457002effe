

namespace BatchCohort.Analysis.Statistics;

/// <summary>
/// Special functions evaluated in log space so that tail probabilities stay accurate (relative error ~1e-12)
/// down to the smallest normal double (~1e-308) instead of underflowing or losing digits to cancellation.
/// </summary>
public static class SpecialFunctions
{
    /// <summary>log(1 + x), accurate for small x.</summary>
    public static double Log1P(double x)
    {
        double u = 1.0 + x;
        if (u == 1.0) return x;
        if (double.IsInfinity(u)) return Math.Log(u);
        return Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>log B(a, b).</summary>
    public static double LogBeta(double a, double b) =>
        GammaLn(a) + GammaLn(b) - GammaLn(a + b);

    private static double GammaLn(double x) => MathNet.Numerics.SpecialFunctions.GammaLn(x);

    /// <summary>
    /// log I_x(a, b), the log of the regularized incomplete beta function, given both x and y = 1 − x (pass y
    /// computed without cancellation when x is close to 1). Uses the continued fraction (Abramowitz &amp; Stegun
    /// 26.5.8, evaluated with the modified Lentz method) on the side where it converges, the prefactor
    /// x^a y^b / (a B(a,b)) in log space, and the symmetry I_x(a,b) = 1 − I_y(b,a).
    /// </summary>
    public static double LogBetaRegularized(double a, double b, double x, double y)
    {
        if (!(a > 0) || !(b > 0)) throw new ArgumentOutOfRangeException(nameof(a), "a and b must be positive");
        if (x < 0 || y < 0 || double.IsNaN(x) || double.IsNaN(y)) throw new ArgumentOutOfRangeException(nameof(x));
        if (x == 0) return double.NegativeInfinity;
        if (y == 0) return 0.0;
        if (x < (a + 1.0) / (a + b + 2.0))
            return LogFront(a, b, x, y) + Math.Log(ContinuedFraction(a, b, x, y));
        // complement: I_x(a,b) = 1 − I_y(b,a)
        double lc = LogFront(b, a, y, x) + Math.Log(ContinuedFraction(b, a, y, x));
        double c = Math.Exp(lc);
        return c < 0.5 ? Log1P(-c) : Math.Log(1.0 - c);
    }

    /// <summary>I_x(a, b) given x and y = 1 − x.</summary>
    public static double BetaRegularized(double a, double b, double x, double y) => Math.Exp(LogBetaRegularized(a, b, x, y));

    /// <summary>I_x(a, b).</summary>
    public static double BetaRegularized(double a, double b, double x) => BetaRegularized(a, b, x, 1.0 - x);

    // log( x^a y^b / (a B(a,b)) )
    private static double LogFront(double a, double b, double x, double y) =>
        a * Math.Log(x) + b * Math.Log(y) - LogBeta(a, b) - Math.Log(a);

    private static double ContinuedFraction(double a, double b, double x, double y)
    {
        const double tiny = 1e-300;
        const double eps = 1e-16;
        // modified Lentz for 1 / (1 + d1/(1 + d2/(1 + ...)))
        double f = tiny, c = tiny, d = 0.0;
        for (int i = 0; i <= 200000; i++)
        {
            double num;
            if (i == 0) num = 1.0;
            else
            {
                int m = i / 2;
                num = (i & 1) == 1
                    ? -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
                    : (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
            }
            d = 1.0 + num * d;
            if (Math.Abs(d) < tiny) d = tiny;
            d = 1.0 / d;
            c = 1.0 + num / c;
            if (Math.Abs(c) < tiny) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1.0) < eps) return f;
        }
        throw new ArithmeticException($"incomplete beta continued fraction did not converge (a={a}, b={b}, x={x})");
    }

    /// <summary>
    /// Two-sided p-value of Student's t with <paramref name="df"/> degrees of freedom (fractional df allowed):
    /// p = P(|T| ≥ |t|) = I_{df/(df+t²)}(df/2, 1/2), with 1 − x = t²/(df+t²) formed directly.
    /// </summary>
    public static double StudentTTwoSidedP(double t, double df) => Math.Exp(StudentTTwoSidedLogP(t, df));

    /// <summary>log of <see cref="StudentTTwoSidedP"/>: finite even where p underflows a double.</summary>
    public static double StudentTTwoSidedLogP(double t, double df)
    {
        if (!(df > 0)) throw new ArgumentOutOfRangeException(nameof(df), $"degrees of freedom must be positive (got {df})");
        if (double.IsNaN(t)) return double.NaN;
        double at = Math.Abs(t);
        if (double.IsPositiveInfinity(at)) return double.NegativeInfinity;
        if (at == 0) return 0.0;
        double t2 = at * at;
        double x, y;
        if (double.IsInfinity(t2) || t2 > 1e300)
        {
            // x = df/(df+t²) ≈ df/t² : work in logs entirely
            double lx = Math.Log(df) - 2 * Math.Log(at);
            return 0.5 * df * lx - LogBeta(0.5 * df, 0.5) - Math.Log(0.5 * df); // y ≈ 1, CF → 1
        }
        x = df / (df + t2);
        y = t2 / (df + t2);
        return LogBetaRegularized(0.5 * df, 0.5, x, y);
    }

}
