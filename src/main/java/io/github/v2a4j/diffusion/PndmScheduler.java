package io.github.v2a4j.diffusion;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * diffusers 0.31 {@code PNDMScheduler}, fp32 and bit-for-bit with torch on CPU: every elementwise operation is one
 * float operation in the same order as the Python expression, and the tables are built the way torch builds them
 * ({@link NoiseSchedule}).
 *
 * <p>Stateful like the original: {@link #setTimesteps} resets it, then {@link #step} is called once per entry of
 * {@link #timesteps()} in order.
 */
public final class PndmScheduler implements Scheduler {

    /** diffusers' class name, as {@code scheduler_config.json} spells it. */
    public static final String NAME = "PNDMScheduler";

    /** scheduler_config.json; unknown keys are ignored as diffusers does. */
    public record Config(int numTrainTimesteps, double betaStart, double betaEnd, String betaSchedule,
                         double[] trainedBetas, boolean skipPrkSteps, boolean setAlphaToOne, String predictionType,
                         String timestepSpacing, int stepsOffset) {

        /** The constructor defaults of diffusers' PNDMScheduler. */
        public static Config defaults() {
            return new Config(1000, 0.0001, 0.02, "linear", null, false, false, "epsilon", "leading", 0);
        }

        public static Config read(Path file) {
            try {
                return fromJson(JsonParser.parseString(Files.readString(file)).getAsJsonObject());
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("cannot read scheduler config " + file + ": " + e.getMessage(), e);
            }
        }

        public static Config fromJson(JsonObject o) {
            Config d = defaults();
            return new Config(
                    NoiseSchedule.intOr(o, "num_train_timesteps", d.numTrainTimesteps),
                    NoiseSchedule.doubleOr(o, "beta_start", d.betaStart),
                    NoiseSchedule.doubleOr(o, "beta_end", d.betaEnd),
                    NoiseSchedule.stringOr(o, "beta_schedule", d.betaSchedule),
                    NoiseSchedule.trainedBetas(o),
                    NoiseSchedule.boolOr(o, "skip_prk_steps", d.skipPrkSteps),
                    NoiseSchedule.boolOr(o, "set_alpha_to_one", d.setAlphaToOne),
                    NoiseSchedule.stringOr(o, "prediction_type", d.predictionType),
                    NoiseSchedule.stringOr(o, "timestep_spacing", d.timestepSpacing),
                    NoiseSchedule.intOr(o, "steps_offset", d.stepsOffset));
        }
    }

    private static final int PNDM_ORDER = 4;

    private final Config config;
    private final float[] betas;
    private final float[] alphasCumprod;
    private final float finalAlphaCumprod;

    private int numInferenceSteps = -1;
    private int[] prkTimesteps = new int[0];
    private int[] timesteps = new int[0];
    private int counter;
    private final List<float[]> ets = new ArrayList<>();
    private float[] curSample;
    /** PRK running sum; null stands for the Python int 0. */
    private float[] curModelOutput;

    public PndmScheduler(Config config) {
        this.config = config;
        betas = NoiseSchedule.betas(config.numTrainTimesteps, config.betaStart, config.betaEnd, config.betaSchedule,
                config.trainedBetas);
        alphasCumprod = NoiseSchedule.alphasCumprod(betas);
        finalAlphaCumprod = config.setAlphaToOne ? 1.0f : alphasCumprod[0];
        if (!config.predictionType.equals("epsilon") && !config.predictionType.equals("v_prediction")) {
            throw new IllegalArgumentException("prediction_type " + config.predictionType + " must be epsilon or v_prediction");
        }
    }

    /** From a {@code scheduler_config.json} object (any scheduler's: keys PNDM does not know are ignored). */
    public static PndmScheduler fromConfig(JsonObject config) {
        return new PndmScheduler(Config.fromJson(config));
    }

    @Override
    public String name() {
        return NAME;
    }

    public Config config() {
        return config;
    }

    /** Scales the initial noise (1 for PNDM). */
    @Override
    public float initNoiseSigma() {
        return 1.0f;
    }

    @Override
    public float[] betas() {
        return betas.clone();
    }

    @Override
    public float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /** Sets the discrete timesteps of the chain and resets the multistep state. */
    @Override
    public void setTimesteps(int numInferenceSteps) {
        this.numInferenceSteps = numInferenceSteps;
        int n = config.numTrainTimesteps;
        long[] base = NoiseSchedule.spacedTimesteps(config.timestepSpacing, n, numInferenceSteps, config.stepsOffset);
        int m = base.length;
        int[] plms;
        if (config.skipPrkSteps) {
            // [_t[:-1], _t[-2:-1], _t[-1:]] reversed: the second-to-last base timestep appears twice (with one
            // step, _t[-2:-1] is empty and the one timestep appears once)
            prkTimesteps = new int[0];
            plms = new int[m >= 2 ? m + 1 : m];
            int k = 0;
            for (int i = 0; i < m - 1; i++) plms[k++] = (int) base[i];
            if (m >= 2) plms[k++] = (int) base[m - 2];
            plms[k] = (int) base[m - 1];
            reverse(plms);
        } else {
            // last 4 base timesteps, each followed by itself + half a stride; drop the last, repeat each, trim ends
            int half = n / numInferenceSteps / 2;
            int[] prk = new int[2 * PNDM_ORDER];
            for (int j = 0; j < PNDM_ORDER; j++) {
                long t = base[m - PNDM_ORDER + j];
                prk[2 * j] = (int) t;
                prk[2 * j + 1] = (int) (t + half);
            }
            int[] rep = new int[2 * (prk.length - 1)];
            for (int j = 0; j < prk.length - 1; j++) rep[2 * j] = rep[2 * j + 1] = prk[j];
            prkTimesteps = Arrays.copyOfRange(rep, 1, rep.length - 1);
            reverse(prkTimesteps);
            plms = new int[Math.max(0, m - 3)];
            for (int i = 0; i < plms.length; i++) plms[i] = (int) base[i];
            reverse(plms);
        }
        timesteps = new int[prkTimesteps.length + plms.length];
        System.arraycopy(prkTimesteps, 0, timesteps, 0, prkTimesteps.length);
        System.arraycopy(plms, 0, timesteps, prkTimesteps.length, plms.length);
        ets.clear();
        counter = 0;
        curModelOutput = null;
        curSample = null;
    }

    private static void reverse(int[] a) {
        for (int i = 0, j = a.length - 1; i < j; i++, j--) {
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** The timesteps to run, one UNet evaluation each (51 for 50 steps with skip_prk_steps). */
    @Override
    public int[] timesteps() {
        return timesteps.clone();
    }

    /** One denoising step: the sample at the previous timestep. Inputs are not modified. */
    @Override
    public INDArray step(INDArray modelOutput, int timestep, INDArray sample) {
        if (numInferenceSteps < 0) throw new IllegalStateException("call setTimesteps before step");
        if (!Arrays.equals(modelOutput.shape(), sample.shape())) {
            throw new IllegalArgumentException("model output " + Arrays.toString(modelOutput.shape())
                    + " and sample " + Arrays.toString(sample.shape()) + " differ in shape");
        }
        float[] m = floats(modelOutput);
        float[] x = floats(sample);
        float[] prev = counter < prkTimesteps.length && !config.skipPrkSteps
                ? stepPrk(m, timestep, x) : stepPlms(m, timestep, x);
        return Nd4j.create(prev, sample.shape(), 'c');
    }

    private float[] stepPrk(float[] m, int timestep, float[] sample) {
        int diffToPrev = counter % 2 != 0 ? 0 : config.numTrainTimesteps / numInferenceSteps / 2;
        int prevTimestep = timestep - diffToPrev;
        timestep = prkTimesteps[counter / 4 * 4];
        final float sixth = (float) (1.0 / 6);
        final float third = (float) (1.0 / 3);
        float[] modelOutput = m;
        switch (counter % 4) {
            case 0 -> {
                curModelOutput = axpy(curModelOutput, sixth, m);
                ets.add(m);
                curSample = sample;
            }
            case 1, 2 -> curModelOutput = axpy(curModelOutput, third, m);
            default -> {
                modelOutput = axpy(curModelOutput, sixth, m);
                curModelOutput = null;
            }
        }
        float[] cur = curSample != null ? curSample : sample;
        float[] prev = prevSample(cur, timestep, prevTimestep, modelOutput);
        counter++;
        return prev;
    }

    /** {@code acc + c·m} as torch does it ({@code c·m} rounded first); a null acc is the Python int 0. */
    private static float[] axpy(float[] acc, float c, float[] m) {
        float[] r = new float[m.length];
        if (acc == null) {
            for (int i = 0; i < r.length; i++) r[i] = c * m[i];
        } else {
            for (int i = 0; i < r.length; i++) r[i] = acc[i] + c * m[i];
        }
        return r;
    }

    private float[] stepPlms(float[] m, int timestep, float[] sample) {
        if (!config.skipPrkSteps && ets.size() < 3) {
            throw new IllegalStateException("PLMS step before the 12 Runge-Kutta steps");
        }
        int stride = config.numTrainTimesteps / numInferenceSteps;
        int prevTimestep = timestep - stride;
        if (counter != 1) {
            while (ets.size() > 3) ets.remove(0);
            ets.add(m);
        } else {
            prevTimestep = timestep;
            timestep = timestep + stride;
        }
        int n = ets.size();
        float[] e1 = ets.get(n - 1);
        float[] mo = new float[m.length];
        if (n == 1 && counter == 0) {
            mo = m;
            curSample = sample;
        } else if (n == 1 && counter == 1) {
            for (int i = 0; i < mo.length; i++) mo[i] = (m[i] + e1[i]) / 2f;
            sample = curSample;
            curSample = null;
        } else if (n == 2) {
            float[] e2 = ets.get(n - 2);
            for (int i = 0; i < mo.length; i++) mo[i] = (3f * e1[i] - e2[i]) / 2f;
        } else if (n == 3) {
            float[] e2 = ets.get(n - 2), e3 = ets.get(n - 3);
            for (int i = 0; i < mo.length; i++) mo[i] = (23f * e1[i] - 16f * e2[i] + 5f * e3[i]) / 12f;
        } else {
            float[] e2 = ets.get(n - 2), e3 = ets.get(n - 3), e4 = ets.get(n - 4);
            final float c = (float) (1.0 / 24);
            for (int i = 0; i < mo.length; i++) {
                mo[i] = c * (55f * e1[i] - 59f * e2[i] + 37f * e3[i] - 9f * e4[i]);
            }
        }
        float[] prev = prevSample(sample, timestep, prevTimestep, mo);
        counter++;
        return prev;
    }

    /** Formula (9) of the PNDM paper, with the 0-dim fp32 coefficients torch computes. */
    private float[] prevSample(float[] sample, int timestep, int prevTimestep, float[] modelOutput) {
        float alphaProdT = alphasCumprod[timestep];
        float alphaProdTPrev = prevTimestep >= 0 ? alphasCumprod[prevTimestep] : finalAlphaCumprod;
        float betaProdT = 1f - alphaProdT;
        float betaProdTPrev = 1f - alphaProdTPrev;
        float[] mo = modelOutput;
        if (config.predictionType.equals("v_prediction")) {
            float sa = (float) Math.sqrt(alphaProdT), sb = (float) Math.sqrt(betaProdT);
            mo = new float[modelOutput.length];
            for (int i = 0; i < mo.length; i++) mo[i] = sa * modelOutput[i] + sb * sample[i];
        }
        float sampleCoeff = (float) Math.sqrt(alphaProdTPrev / alphaProdT);
        float denom = alphaProdT * (float) Math.sqrt(betaProdTPrev)
                + (float) Math.sqrt(alphaProdT * betaProdT * alphaProdTPrev);
        float diff = alphaProdTPrev - alphaProdT;
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) out[i] = sampleCoeff * sample[i] - diff * mo[i] / denom;
        return out;
    }

    static float[] floats(INDArray a) {
        INDArray c = a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
        return c.dup('c').data().asFloat();
    }
}
