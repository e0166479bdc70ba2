package io.github.v2a4j.audio;

/**
 * SLEEF's {@code xpowf} (u10, FMA build) for positive finite arguments, float32 bit for bit: torch 1.13's AVX2
 * kernel computes {@code 10.0 ** t} with {@code Sleef_powf8_u10}, whose result is not always the correctly rounded
 * one (8 of riffusion's 514 mel edge frequencies differ by an ulp), and those edges define the filterbank.
 * Transcribed from sleefsimdsp.c ({@code xpowf}, {@code logkf}, {@code expkf}) and df.h (double-float helpers,
 * {@code ENABLE_FMA_SP} branch): a float pair (x, y) is the unevaluated sum x + y.
 */
final class SleefPowf {
    private SleefPowf() {}

    private static final float R_LN2F = 1.442695040888963407359924681001892137426645954152985934135449406931f;
    private static final float L2UF = 0.693145751953125f;
    private static final float L2LF = 1.428606765330187045e-06f;

    /** {@code pow(x, y)} for x > 0 (finite), as SLEEF's vector powf. */
    static float pow(float x, float y) {
        if (!(x > 0) || Float.isInfinite(x) || Float.isNaN(y) || Float.isInfinite(y))
            throw new IllegalArgumentException("SleefPowf handles finite x > 0 and finite y only");
        if (y == 0 || x == 1) return 1f;
        float[] l = logk(x);
        // dfmul_vf2_vf2_vf(l, y)
        float s = l[0] * y;
        float t = Math.fma(l[1], y, Math.fma(l[0], y, -s));
        return expk(s, t);
    }

    private static float[] logk(float d) {
        int e = ((Float.floatToRawIntBits(d * (1.0f / 0.75f)) >>> 23) & 0xff) - 0x7f;
        float m = Float.intBitsToFloat(Float.floatToRawIntBits(d) + ((-e) << 23));
        // x = dfdiv(dfadd2(-1, m), dfadd2(1, m))
        float[] num = add2(-1f, m), den = add2(1f, m);
        float[] x = div(num, den);
        float[] x2 = squ(x);
        float t = 0.240320354700088500976562f;
        t = Math.fma(t, x2[0], 0.285112679004669189453125f);
        t = Math.fma(t, x2[0], 0.400007992982864379882812f);
        float[] c = {0.66666662693023681640625f, 3.69183861259614332084311e-09f};
        float[] s = mulF(new float[] {0.69314718246459960938f, -1.904654323148236017e-09f}, (float) e);
        s = add(s, new float[] {x[0] * 2, x[1] * 2});
        s = add(s, mul(mul(x2, x), add2(mulF(x2, t), c)));
        return s;
    }

    private static float expk(float dx, float dy) {
        float u = (dx + dy) * R_LN2F;
        int q = (int) Math.rint(u);
        float[] s = add2F(new float[] {dx, dy}, (float) q * -L2UF);
        s = add2F(s, (float) q * -L2LF);
        // dfnormalize
        float n = s[0] + s[1];
        s = new float[] {n, (s[0] - n) + s[1]};
        u = 0.00136324646882712841033936f;
        u = Math.fma(u, s[0], 0.00836596917361021041870117f);
        u = Math.fma(u, s[0], 0.0416710823774337768554688f);
        u = Math.fma(u, s[0], 0.166665524244308471679688f);
        u = Math.fma(u, s[0], 0.499999850988388061523438f);
        float[] t = add(s, mulF(squ(s), u));
        // dfadd_vf2_vf_vf2(1, t)
        float s1 = 1f + t[0];
        t = new float[] {s1, ((1f - s1) + t[0]) + t[1]};
        u = t[0] + t[1];
        u = Math.scalb(u, q);
        if (dx < -104) u = 0;
        return u;
    }

    // df.h, ENABLE_FMA_SP
    private static float[] add2(float x, float y) {
        float s = x + y, v = s - x;
        return new float[] {s, (x - (s - v)) + (y - v)};
    }

    private static float[] add2F(float[] x, float y) {
        float s = x[0] + y, v = s - x[0];
        float t = (x[0] - (s - v)) + (y - v);
        return new float[] {s, t + x[1]};
    }

    private static float[] add2(float[] x, float[] y) {
        float s = x[0] + y[0], v = s - x[0];
        float t = (x[0] - (s - v)) + (y[0] - v);
        return new float[] {s, t + (x[1] + y[1])};
    }

    /** dfadd_vf2_vf2_vf2 (|x| >= |y|). */
    private static float[] add(float[] x, float[] y) {
        float s = x[0] + y[0];
        return new float[] {s, (((x[0] - s) + y[0]) + x[1]) + y[1]};
    }

    private static float[] div(float[] n, float[] d) {
        float t = 1.0f / d[0];
        float s = n[0] * t;
        float u = Math.fma(t, n[0], -s);
        float v = Math.fma(-d[1], t, Math.fma(-d[0], t, 1f));
        return new float[] {s, Math.fma(s, v, Math.fma(n[1], t, u))};
    }

    private static float[] squ(float[] x) {
        float s = x[0] * x[0];
        return new float[] {s, Math.fma(x[0] + x[0], x[1], Math.fma(x[0], x[0], -s))};
    }

    private static float[] mul(float[] x, float[] y) {
        float s = x[0] * y[0];
        return new float[] {s, Math.fma(x[0], y[1], Math.fma(x[1], y[0], Math.fma(x[0], y[0], -s)))};
    }

    private static float[] mulF(float[] x, float y) {
        float s = x[0] * y;
        return new float[] {s, Math.fma(x[1], y, Math.fma(x[0], y, -s))};
    }
}
