package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Weights;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where the UNet's blocks take their parameters from, scoped by upstream module path. Normally a view of
 * {@link Weights} (checkpoint names and expected shapes, verified at the end); the benchmark plugs in synthetic
 * random tensors of the same names and shapes instead.
 */
public interface Params {

    /** The parameter {@code local} of this scope with the given shape. Must not be written into. */
    INDArray get(String local, long... shape);

    /** The scope of a submodule. */
    Params at(String path);

    static Params of(Weights w) {
        return new Params() {
            @Override
            public INDArray get(String local, long... shape) {
                return w.get(local, shape);
            }

            @Override
            public Params at(String path) {
                return of(w.at(path));
            }
        };
    }
}
