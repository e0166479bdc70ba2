package io.github.v2a4j.validate;

import io.github.v2a4j.diffusion.Scheduler;
import io.github.v2a4j.diffusion.Schedulers;
import io.github.v2a4j.golden.BundleException;
import io.github.v2a4j.golden.Comparison;
import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.Tolerance;
import io.github.v2a4j.golden.Validator;
import io.github.v2a4j.io.Safetensors;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@code v2a validate} for scheduler bundles (reference-tests/dump_pndm.py, dump_ddim.py): the scheduler the bundle's
 * {@code scheduler_config} names, {@code set_timesteps(num_inference_steps)}, then every step fed the recorded model
 * output and chained on its own samples. Tolerance EXACT: the tables and each step are fp32 operations in torch's
 * order.
 */
public final class SchedulerValidator implements Validator {

    static final Tolerance BIT_EXACT = Tolerance.exact("fp32 elementwise arithmetic in torch's operation order, "
            + "linspace/cumprod built as torch 1.13 builds them");

    @Override
    public String component() {
        return "scheduler";
    }

    @Override
    public ComparisonReport validate(GoldenBundle bundle) {
        Scheduler s = Schedulers.create(bundle.config(), null);
        int steps = bundle.manifest().getAsJsonObject("sizes").get("num_inference_steps").getAsInt();
        s.setTimesteps(steps);
        Safetensors io = bundle.io();
        INDArray outputs = io.mapped("model_output");
        int[] ts = s.timesteps();
        if (outputs.size(0) != ts.length) {
            throw new BundleException(bundle.dir() + ": " + outputs.size(0) + " model outputs for "
                    + ts.length + " timesteps");
        }
        Map<String, INDArray> acts = new LinkedHashMap<>();
        INDArray sample = io.mapped("init_sample");
        INDArray[] prev = new INDArray[ts.length];
        for (int i = 0; i < ts.length; i++) {
            prev[i] = s.step(outputs.get(NDArrayIndex.point(i)), ts[i], sample);
            String k = i == 0 ? "" : "@" + i;
            acts.put("scheduler.step" + k + ".out.0", prev[i]);
            // PNDM's bundles record its internal step function, called once per step
            acts.put("_get_prev_sample" + k + ".out", prev[i]);
            sample = prev[i];
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put("timesteps", Nd4j.createFromArray(ts));
        out.put("betas", Nd4j.createFromArray(s.betas()));
        out.put("alphas_cumprod", Nd4j.createFromArray(s.alphasCumprod()));
        out.put("prev_sample", Nd4j.stack(0, prev));
        return Comparison.of(bundle).tolerance(name -> BIT_EXACT)
                .notProduced("inputs of PNDM's internal step function: the recorded model outputs and this chain's "
                        + "own samples, compared as the previous step's output", "_get_prev_sample*.in.*")
                .notProduced("DDIM's clipped predicted original sample, internal to its step: what it feeds into is "
                        + "compared as the step's output", "scheduler.step*.out.1")
                .compare(acts, out);
    }
}
