package io.github.v2a4j.cogvlm;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.nn.Trace;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Repeated frames run through the vision tower once (the black clip, videos under 8 frames per second). */
class VisionTowerTest {

    @Test
    void framesThatRepeatRunOnceAndGetTheRowsOfAFullPass() {
        CogVlmEncoderTest.Tiny t = new CogVlmEncoderTest.Tiny();
        INDArray clip = new VideoPreprocessor(t.cfg.vision().imageSize()).preprocess(t.io.raw("video"));
        assertThat(clip.size(0)).isGreaterThanOrEqualTo(2);
        // frames a b a b b a: two distinct frames
        int[] order = {0, 1, 0, 1, 1, 0};
        List<INDArray> frames = new ArrayList<>();
        for (int f : order) frames.add(clip.get(NDArrayIndex.point(f)).dup());
        INDArray images = Nd4j.stack(0, frames.toArray(new INDArray[0]));

        assertThat(VisionTower.firstEqualFrame(images)).containsExactly(0, 1, 0, 1, 1, 0);
        assertThat(VisionTower.firstEqualFrame(clip)).doesNotHaveDuplicates();

        List<String> steps = new ArrayList<>();
        VisionTower tower = new VisionTower(t.cfg, t.weights, 8);
        INDArray once = tower.forward(images, Trace.OFF, Progress.counter((unit, d, n) -> steps.add(unit), tower.steps()));
        // a recording trace runs every frame (one batch of 6, as upstream calls the modules)
        INDArray every = tower.forward(images, Trace.all());
        assertThat(once.shape()).containsExactly(every.shape());
        // frames are independent: the rows of a frame do not depend on which other frames share its batch, so the
        // only admissible difference is the summation order of a product's blocking (float rounding), 1e-6 relative
        double scale = every.amaxNumber().doubleValue();
        double diff = once.sub(every).amaxNumber().doubleValue();
        assertThat(diff).as("max |deduplicated - full| against max |full| = %s", scale).isLessThanOrEqualTo(1e-6 * scale);
        // and the progress still counts every layer and the adapter
        assertThat(steps).hasSize(tower.steps()).last().isEqualTo("adapter");
    }
}
