package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Trace;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An up block of the UNet: before each resnet pops the last skip and concatenates {@code [h, skip]} on channels;
 * a non-final block then upsamples to the size of the skip that is next in line.
 */
interface UpBlock {
    INDArray forward(INDArray x, INDArray tembSilu, Conditioning cond, List<INDArray> skips, Trace trace);
}
