package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Trace;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A down block of the UNet: pushes each of its outputs onto the skip list and returns the last. */
interface DownBlock {
    INDArray forward(INDArray x, INDArray tembSilu, Conditioning cond, List<INDArray> skips, Trace trace);
}
