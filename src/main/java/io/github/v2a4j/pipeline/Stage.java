package io.github.v2a4j.pipeline;

/** The stages of one generation, in order, with the words a progress display uses for them. */
public enum Stage {
    LOAD_VIDEO("reading video"),
    ENCODE_PROMPT("encoding prompts"),
    ENCODE_VIDEO("encoding video"),
    ENCODE_BLACK_VIDEO("encoding black video"),
    DENOISE("denoising"),
    VAE_DECODE("decoding spectrogram"),
    AUDIO("spectrogram to audio"),
    MUX("writing video");

    private final String label;

    Stage(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
