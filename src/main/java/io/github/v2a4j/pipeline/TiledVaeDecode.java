package io.github.v2a4j.pipeline;

import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.vae.VaeDecoder;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The VAE decoder over a latent wider than one tile, in overlapping tiles along the time axis, so memory stays
 * what one tile's decode needs (the decoder's activations grow with the width: 2.2 GB for a 148-column tile at real
 * size) however long the sound is.
 *
 * <p>Tiles lie as {@link LatentWindows} places windows: all of the full tile width, spread evenly, overlapping by
 * at least the given columns. Each tile is decoded on its own and blended into the image over the columns it shares
 * with what is already there, linearly from the previous content to its own (as diffusers' {@code tiled_decode}
 * blends). The decoder is not column-local (its mid-block attention sees the whole tile, its convolutions a few
 * latent columns either side), so two tiles disagree slightly near their edges; the blend spreads that difference
 * over the overlap instead of leaving a step where one tile's output meets the next. A latent no wider than one tile
 * is decoded in one call, exactly as {@link VaeDecoder#decode}.
 */
final class TiledVaeDecode {
    private TiledVaeDecode() {}

    /**
     * @param latents    {@code [1, C, h, w]}, not modified
     * @param tile       latent columns per tile
     * @param minOverlap latent columns consecutive tiles share at least
     * @return the image {@code [1, out, h·f, w·f]}
     */
    static INDArray decode(VaeDecoder vae, INDArray latents, int tile, int minOverlap) {
        int width = (int) latents.size(3);
        if (width <= tile) return vae.decode(latents, Trace.OFF);
        LatentWindows tiles = LatentWindows.plan(width, tile, minOverlap);
        int f = vae.config().scaleFactor();
        INDArray image = null;
        int filled = 0; // image columns written so far
        for (int k = 0; k < tiles.count(); k++) {
            INDArray part = vae.decode(latents.get(cols(tiles.start(k), tiles.end(k))).dup('c'), Trace.OFF);
            if (image == null) {
                image = Nd4j.create(part.dataType(), part.size(0), part.size(1), part.size(2), (long) width * f);
            }
            int from = tiles.start(k) * f;
            int shared = filled - from;
            if (shared > 0) {
                INDArray prev = image.get(cols(from, filled));
                INDArray mine = part.get(cols(0, shared));
                // prev + r·(mine − prev), r = (x + 0.5) / shared: from the previous content to this tile's
                INDArray ramp = Nd4j.create(part.dataType(), shared);
                for (int x = 0; x < shared; x++) ramp.putScalar(x, (x + 0.5) / shared);
                INDArray delta = mine.sub(prev);
                Broadcast.mul(delta, ramp, delta, 3);
                prev.addi(delta);
            }
            image.get(cols(filled, from + tile * f)).assign(part.get(cols(Math.max(shared, 0), tile * f)));
            filled = from + tile * f;
            part.close();
        }
        return image;
    }

    private static INDArrayIndex[] cols(long from, long to) {
        return new INDArrayIndex[] {NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(),
            NDArrayIndex.interval(from, to)};
    }
}
