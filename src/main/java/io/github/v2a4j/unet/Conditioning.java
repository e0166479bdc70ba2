package io.github.v2a4j.unet;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The UNet's conditioning for one batch: text embeddings {@code [B,Ltext,textDim]} and video embeddings
 * {@code [B,T,videoDim]}, plus the keys/values every attention derives from them. Those do not depend on the latent
 * or the timestep, so a denoising loop that reuses one Conditioning computes them once instead of 51 times (the
 * reference recomputes them on every call; the values are the same).
 */
public final class Conditioning {
    final INDArray text;
    final INDArray video;
    private final Map<String, INDArray[]> keysValues = new HashMap<>();

    public Conditioning(INDArray text, INDArray video) {
        if (text.rank() != 3 || video.rank() != 3 || text.size(0) != video.size(0)) {
            throw new IllegalArgumentException("conditioning: text " + java.util.Arrays.toString(text.shape())
                    + " and video " + java.util.Arrays.toString(video.shape())
                    + " must be [B,L,D] with the same batch");
        }
        this.text = text;
        this.video = video;
    }

    public long batch() {
        return text.size(0);
    }

    /** The {key, value} pair of the attention at {@code path}, computed on first use. */
    INDArray[] keysValues(String path, Supplier<INDArray[]> compute) {
        return keysValues.computeIfAbsent(path, k -> compute.get());
    }
}
