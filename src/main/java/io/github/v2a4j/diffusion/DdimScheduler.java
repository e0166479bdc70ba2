package io.github.v2a4j.diffusion;

import com.google.gson.JsonObject;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * diffusers 0.31 {@code DDIMScheduler} with {@code eta = 0} (deterministic), fp32 and in torch's operation order, so
 * it matches diffusers bit for bit on the CPU. Its {@link #timesteps()} are one per inference step (50 for 50, where
 * PNDM with {@code skip_prk_steps} needs 51).
 *
 * <p>Built from a model's {@code scheduler_config.json} as diffusers' {@code DDIMScheduler.from_config} builds it:
 * keys it knows are taken, absent ones keep DDIM's constructor defaults ({@code clip_sample} true, {@code
 * set_alpha_to_one} true), others are ignored.
 */
public final class DdimScheduler implements Scheduler {

    /** diffusers' class name, as {@code scheduler_config.json} spells it. */
    public static final String NAME = "DDIMScheduler";

    /** The DDIMScheduler keys of scheduler_config.json. */
    public record Config(int numTrainTimesteps, double betaStart, double betaEnd, String betaSchedule,
                         double[] trainedBetas, boolean clipSample, double clipSampleRange, boolean setAlphaToOne,
                         int stepsOffset, String predictionType, String timestepSpacing) {

        /** DDIMScheduler's constructor defaults. */
        public static Config defaults() {
            return new Config(1000, 0.0001, 0.02, "linear", null, true, 1.0, true, 0, "epsilon", "leading");
        }

        /** diffusers {@code from_config}; {@code thresholding} and {@code rescale_betas_zero_snr} are not supported. */
        public static Config fromJson(JsonObject o) {
            if (NoiseSchedule.boolOr(o, "thresholding", false)) {
                throw new IllegalArgumentException("DDIMScheduler: thresholding is not supported");
            }
            if (NoiseSchedule.boolOr(o, "rescale_betas_zero_snr", false)) {
                throw new IllegalArgumentException("DDIMScheduler: rescale_betas_zero_snr is not supported");
            }
            Config d = defaults();
            return new Config(
                    NoiseSchedule.intOr(o, "num_train_timesteps", d.numTrainTimesteps),
                    NoiseSchedule.doubleOr(o, "beta_start", d.betaStart),
                    NoiseSchedule.doubleOr(o, "beta_end", d.betaEnd),
                    NoiseSchedule.stringOr(o, "beta_schedule", d.betaSchedule),
                    NoiseSchedule.trainedBetas(o),
                    NoiseSchedule.boolOr(o, "clip_sample", d.clipSample),
                    NoiseSchedule.doubleOr(o, "clip_sample_range", d.clipSampleRange),
                    NoiseSchedule.boolOr(o, "set_alpha_to_one", d.setAlphaToOne),
                    NoiseSchedule.intOr(o, "steps_offset", d.stepsOffset),
                    NoiseSchedule.stringOr(o, "prediction_type", d.predictionType),
                    NoiseSchedule.stringOr(o, "timestep_spacing", d.timestepSpacing));
        }
    }

    private final Config config;
    private final float[] betas;
    private final float[] alphasCumprod;
    private final float finalAlphaCumprod;
    private int numInferenceSteps = -1;
    private int[] timesteps = new int[0];

    public DdimScheduler(Config config) {
        this.config = config;
        betas = NoiseSchedule.betas(config.numTrainTimesteps, config.betaStart, config.betaEnd,
                config.betaSchedule, config.trainedBetas);
        alphasCumprod = NoiseSchedule.alphasCumprod(betas);
        NoiseSchedule.checkSpacing(config.timestepSpacing);
        finalAlphaCumprod = config.setAlphaToOne ? 1.0f : alphasCumprod[0];
        if (!config.predictionType.equals("epsilon") && !config.predictionType.equals("sample")
                && !config.predictionType.equals("v_prediction")) {
            throw new IllegalArgumentException("prediction_type " + config.predictionType
                    + " must be epsilon, sample or v_prediction");
        }
    }

    /** From a {@code scheduler_config.json} object (any scheduler's, as {@code DDIMScheduler.from_config}). */
    public static DdimScheduler fromConfig(JsonObject config) {
        return new DdimScheduler(Config.fromJson(config));
    }

    @Override
    public String name() {
        return NAME;
    }

    public Config config() {
        return config;
    }

    @Override
    public float[] betas() {
        return betas.clone();
    }

    @Override
    public float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    @Override
    public float initNoiseSigma() {
        return 1.0f;
    }

    /** Null when {@code steps} lies in {@link NoiseSchedule#stepsProblem}'s range (one step is fine for DDIM). */
    @Override
    public String stepsProblem(int steps) {
        return NoiseSchedule.stepsProblem(config.timestepSpacing, config.numTrainTimesteps, steps, config.stepsOffset);
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        String problem = stepsProblem(numInferenceSteps);
        if (problem != null) throw new IllegalArgumentException(problem);
        long[] base = NoiseSchedule.spacedTimesteps(config.timestepSpacing, config.numTrainTimesteps,
                numInferenceSteps, config.stepsOffset);
        this.numInferenceSteps = numInferenceSteps;
        timesteps = new int[base.length];
        for (int i = 0; i < base.length; i++) timesteps[i] = (int) base[base.length - 1 - i];
    }

    @Override
    public int[] timesteps() {
        return timesteps.clone();
    }

    /**
     * Formulas (12) and (16) of the DDIM paper at eta 0: the predicted original sample from the noise, clipped to
     * {@code ±clip_sample_range} if configured, then moved to the previous timestep along the predicted noise.
     */
    @Override
    public INDArray step(INDArray modelOutput, int timestep, INDArray sample) {
        if (numInferenceSteps < 0) throw new IllegalStateException("call setTimesteps before step");
        if (!Arrays.equals(modelOutput.shape(), sample.shape())) {
            throw new IllegalArgumentException("model output " + Arrays.toString(modelOutput.shape())
                    + " and sample " + Arrays.toString(sample.shape()) + " differ in shape");
        }
        float[] m = PndmScheduler.floats(modelOutput);
        float[] x = PndmScheduler.floats(sample);
        int prevTimestep = timestep - config.numTrainTimesteps / numInferenceSteps;
        float alphaProdT = alphasCumprod[timestep];
        float alphaProdTPrev = prevTimestep >= 0 ? alphasCumprod[prevTimestep] : finalAlphaCumprod;
        float betaProdT = 1f - alphaProdT;
        // torch's pow(x, 0.5) is sqrt: the float square root, correctly rounded
        float sqrtAlpha = (float) Math.sqrt(alphaProdT);
        float sqrtBeta = (float) Math.sqrt(betaProdT);
        float[] original = new float[m.length];
        float[] epsilon = new float[m.length];
        switch (config.predictionType) {
            case "epsilon" -> {
                for (int i = 0; i < m.length; i++) original[i] = (x[i] - sqrtBeta * m[i]) / sqrtAlpha;
                epsilon = m;
            }
            case "sample" -> {
                original = m;
                for (int i = 0; i < m.length; i++) epsilon[i] = (x[i] - sqrtAlpha * m[i]) / sqrtBeta;
            }
            default -> { // v_prediction
                for (int i = 0; i < m.length; i++) {
                    original[i] = sqrtAlpha * x[i] - sqrtBeta * m[i];
                    epsilon[i] = sqrtAlpha * m[i] + sqrtBeta * x[i];
                }
            }
        }
        if (config.clipSample) {
            float r = (float) config.clipSampleRange;
            for (int i = 0; i < original.length; i++) original[i] = Math.max(-r, Math.min(r, original[i]));
        }
        // eta 0: std_dev_t is 0, so the direction coefficient is sqrt(1 - alpha_prod_t_prev)
        float direction = (float) Math.sqrt(1f - alphaProdTPrev);
        float sqrtAlphaPrev = (float) Math.sqrt(alphaProdTPrev);
        float[] prev = new float[m.length];
        for (int i = 0; i < prev.length; i++) prev[i] = sqrtAlphaPrev * original[i] + direction * epsilon[i];
        return Nd4j.create(prev, sample.shape(), 'c');
    }
}
