package io.github.v2a4j.diffusion;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.List;

/**
 * What diffusers' schedulers share: the beta table, {@code alphas_cumprod}, the spacing of the inference timesteps,
 * and reading {@code scheduler_config.json} values with a scheduler's own constructor defaults. The tables are built
 * the way torch 1.13 builds them on the CPU (see {@link #torchLinspace} and {@link #cumprod}), so they match bit for
 * bit.
 */
final class NoiseSchedule {
    private NoiseSchedule() {}

    /**
     * {@code betas} for {@code beta_schedule} ({@code linear}, {@code scaled_linear}, {@code squaredcos_cap_v2}), or
     * {@code trained_betas} when given.
     */
    static float[] betas(int n, double betaStart, double betaEnd, String schedule, double[] trained) {
        if (n < 1) throw new IllegalArgumentException("num_train_timesteps must be at least 1, got " + n);
        if (trained == null && !(betaStart > 0 && betaEnd > 0 && betaStart < 1 && betaEnd < 1)) {
            throw new IllegalArgumentException("beta_start and beta_end must lie between 0 and 1, got " + betaStart
                    + " and " + betaEnd);
        }
        if (trained != null) {
            float[] b = new float[trained.length];
            for (int i = 0; i < b.length; i++) b[i] = (float) trained[i];
            return b;
        }
        return switch (schedule) {
            case "linear" -> torchLinspace((float) betaStart, (float) betaEnd, n);
            case "scaled_linear" -> {
                // torch.linspace(beta_start**0.5, beta_end**0.5) ** 2: Python double sqrt, fp32 linspace, fp32 square
                float[] b = torchLinspace((float) Math.sqrt(betaStart), (float) Math.sqrt(betaEnd), n);
                for (int i = 0; i < n; i++) b[i] = b[i] * b[i];
                yield b;
            }
            case "squaredcos_cap_v2" -> squaredCos(n);
            default -> throw new IllegalArgumentException("beta_schedule " + schedule + " is not supported");
        };
    }

    /** {@code cumprod(1 - betas)}. */
    static float[] alphasCumprod(float[] betas) {
        float[] alphas = new float[betas.length];
        for (int i = 0; i < alphas.length; i++) alphas[i] = 1.0f - betas[i];
        return cumprod(alphas);
    }

    /**
     * torch.linspace(start, end, steps, dtype=float32) as torch 1.13's CPU kernel computes it: the first half counts
     * up from start, the second half down from end, in vectors of 8 floats (AVX2) whose first lane is
     * {@code fma(step, i, start)} (resp. {@code fma(-step, steps-1-i, end)}) and whose lane k is
     * {@code fma(k, step, lane0)} — GCC contracts the a + b·c of the kernel into FMAs. The tail that does not fill a
     * vector is the scalar formula (contracted too). Checked bit-for-bit against torch 1.13 for the SD-1.x schedule;
     * the plain formula {@code start + i·step} differs in 272 of 1000 values.
     */
    static float[] torchLinspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        final int vec = 8;
        int i = 0;
        for (; i + vec <= steps; i += vec) {
            float base = lane0(start, end, step, i, steps, halfway);
            for (int k = 0; k < vec; k++) out[i + k] = Math.fma((float) k, step, base);
        }
        for (; i < steps; i++) out[i] = lane0(start, end, step, i, steps, halfway);
        return out;
    }

    private static float lane0(float start, float end, float step, int i, int steps, int halfway) {
        return i < halfway ? Math.fma(step, (float) i, start) : Math.fma(-step, (float) (steps - i - 1), end);
    }

    /** torch.cumprod on CPU accumulates in acc_type&lt;float&gt; = double and rounds each output to float. */
    static float[] cumprod(float[] x) {
        float[] out = new float[x.length];
        double acc = 1.0;
        for (int i = 0; i < x.length; i++) {
            acc *= x[i];
            out[i] = (float) acc;
        }
        return out;
    }

    /** betas_for_alpha_bar(cosine): Python doubles, then torch.tensor(float32). */
    private static float[] squaredCos(int n) {
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            double t1 = (double) i / n;
            double t2 = (double) (i + 1) / n;
            b[i] = (float) Math.min(1 - alphaBar(t2) / alphaBar(t1), 0.999);
        }
        return b;
    }

    private static double alphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /**
     * The inference timesteps in ascending order for {@code timestep_spacing} (Table 2 of "Common Diffusion Noise
     * Schedules and Sample Steps are Flawed"): {@code linspace} = {@code np.linspace(0, n-1, steps).round()}
     * (half to even), {@code leading} = {@code arange(steps)·(n // steps) + steps_offset}, {@code trailing} =
     * {@code round(arange(n, 0, -n/steps)) - 1} ascending.
     */
    static long[] spacedTimesteps(String spacing, int n, int steps, int stepsOffset) {
        if (steps < 1 || steps > n) {
            throw new IllegalArgumentException("num_inference_steps " + steps + " must be in [1, " + n + "]");
        }
        long[] base;
        switch (spacing) {
            case "linspace" -> {
                base = new long[steps];
                double step = steps > 1 ? (double) (n - 1) / (steps - 1) : 0;
                for (int i = 0; i < steps; i++) base[i] = (long) Math.rint(i * step);
                if (steps > 1) base[steps - 1] = n - 1;
            }
            case "leading" -> {
                int ratio = n / steps;
                base = new long[steps];
                for (int i = 0; i < steps; i++) base[i] = (long) i * ratio + stepsOffset;
            }
            case "trailing" -> {
                double ratio = (double) n / steps;
                int len = (int) Math.ceil(n / ratio);
                base = new long[len];
                for (int i = 0; i < len; i++) base[len - 1 - i] = (long) Math.rint(n + i * -ratio) - 1;
            }
            default -> throw unsupportedSpacing(spacing);
        }
        return base;
    }

    /** Refuses a {@code timestep_spacing} {@link #spacedTimesteps} does not know, when a scheduler is built. */
    static void checkSpacing(String spacing) {
        if (!List.of("linspace", "leading", "trailing").contains(spacing)) throw unsupportedSpacing(spacing);
    }

    private static IllegalArgumentException unsupportedSpacing(String spacing) {
        return new IllegalArgumentException("timestep_spacing " + spacing + " is not supported (linspace, leading, "
                + "trailing)");
    }

    /**
     * Null when {@link #spacedTimesteps} of {@code steps} all lie in {@code 0 .. n-1}, else why not, in one line
     * naming the largest count that does: a count beyond the training timesteps, or one whose offset timesteps would
     * index past the tables (diffusers fails then in {@code step}, after the encoders have run).
     */
    static String stepsProblem(String spacing, int n, int steps, int stepsOffset) {
        if (steps < 1) return "steps must be at least 1, got " + steps;
        if (steps > n || !inRange(spacedTimesteps(spacing, n, steps, stepsOffset), n)) {
            int max = Math.min(n, steps - 1);
            while (max > 1 && !inRange(spacedTimesteps(spacing, n, max, stepsOffset), n)) max--;
            return "steps must be at most " + max + " for this model's scheduler (" + n + " training timesteps, "
                    + spacing + " spacing, steps_offset " + stepsOffset + "), got " + steps;
        }
        return null;
    }

    private static boolean inRange(long[] timesteps, int n) {
        for (long t : timesteps) if (t < 0 || t >= n) return false;
        return true;
    }

    // scheduler_config.json values: absent or null keys take the scheduler's constructor default

    static JsonElement get(JsonObject o, String k) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? null : e;
    }

    static int intOr(JsonObject o, String k, int d) {
        JsonElement e = get(o, k);
        return e == null ? d : e.getAsInt();
    }

    static double doubleOr(JsonObject o, String k, double d) {
        JsonElement e = get(o, k);
        return e == null ? d : e.getAsDouble();
    }

    static boolean boolOr(JsonObject o, String k, boolean d) {
        JsonElement e = get(o, k);
        return e == null ? d : e.getAsBoolean();
    }

    static String stringOr(JsonObject o, String k, String d) {
        JsonElement e = get(o, k);
        return e == null ? d : e.getAsString();
    }

    static double[] trainedBetas(JsonObject o) {
        JsonElement e = get(o, "trained_betas");
        if (e == null) return null;
        JsonArray a = e.getAsJsonArray();
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).getAsDouble();
        return out;
    }
}
