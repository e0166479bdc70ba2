package io.github.v2a4j.serve;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.io.Content;

/**
 * Reads a {@code multipart/form-data} request body as it arrives, with Jetty's multipart parser: the {@code video}
 * file part goes straight to a file (never whole in memory) and is cut off as soon as it passes the size limit; the
 * other parts are short text fields, each bounded too.
 */
final class MultipartUpload {

    static final String VIDEO = "video";
    /** Longest text field, in bytes (a prompt is at most 1000 characters, up to 4 bytes each in UTF-8). */
    static final int MAX_FIELD_BYTES = 4 * JobOptions.MAX_PROMPT_CHARS;
    /** The video and the option fields, with room for a few more (which are then refused by name). */
    static final int MAX_PARTS = 16;
    /** Room for the part headers and fields around the video in a request's Content-Length. */
    static final long FORM_OVERHEAD = MAX_PARTS * (long) (MAX_FIELD_BYTES + 1024);

    /** The text fields (name → value) and the size of the video written. */
    record Received(Map<String, String> fields, long videoBytes) {}

    private MultipartUpload() {}

    /**
     * Parses the body from {@code in} and writes the video part to {@code videoFile} (created, must not exist).
     *
     * @throws ApiException 413 when the video passes {@code maxVideoBytes}, 400 for a malformed or incomplete form
     */
    static Received receive(InputStream in, String contentType, Path videoFile, long maxVideoBytes) throws IOException {
        String boundary = MultiPart.extractBoundary(contentType);
        if (boundary == null || boundary.isEmpty()) {
            throw new ApiException(400, "multipart/form-data without a boundary");
        }
        try (FileChannel video = FileChannel.open(videoFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            Form form = new Form(video, maxVideoBytes);
            MultiPart.Parser parser = new MultiPart.Parser(boundary, form);
            parser.setMaxParts(MAX_PARTS);
            byte[] buf = new byte[64 * 1024];
            while (!form.complete && form.failure == null) {
                int n;
                try {
                    n = in.read(buf);
                } catch (IOException e) {
                    throw new ApiException(400, "upload incomplete: the connection ended inside the form");
                }
                // the last chunk ends in onComplete or, if the form is unfinished, in onFailure
                parser.parse(n < 0 ? Content.Chunk.EOF : Content.Chunk.from(ByteBuffer.wrap(buf, 0, n), false));
            }
            if (form.failure != null) throw form.failure;
            if (!form.sawVideo) throw new ApiException(400, "no '" + VIDEO + "' file part in the form");
            if (form.videoBytes == 0) throw new ApiException(400, "the video file is empty");
            video.force(true);
            return new Received(form.fields, form.videoBytes);
        }
    }

    /** Parser events → the video file and the fields; problems are kept and thrown by the reading loop. */
    private static final class Form implements MultiPart.Parser.Listener {
        private final FileChannel video;
        private final long maxVideoBytes;
        final Map<String, String> fields = new LinkedHashMap<>();
        long videoBytes;
        boolean sawVideo;
        boolean complete;
        RuntimeException failure;

        private String name;
        private boolean isFile;
        private final ByteBuffer field = ByteBuffer.allocate(MAX_FIELD_BYTES);

        Form(FileChannel video, long maxVideoBytes) {
            this.video = video;
            this.maxVideoBytes = maxVideoBytes;
        }

        @Override
        public void onPartBegin() {
            name = null;
            isFile = false;
            field.clear();
        }

        @Override
        public void onPartHeader(String header, String value) {
            if (!"content-disposition".equalsIgnoreCase(header)) return;
            Map<String, String> params = new HashMap<>();
            String type = HttpField.getValueParameters(value, params);
            if (!"form-data".equalsIgnoreCase(type)) return;
            name = params.get("name");
            isFile = params.containsKey("filename");
        }

        @Override
        public void onPartHeaders() {
            if (failure != null) return;
            if (name == null) {
                failure = new ApiException(400, "a form part has no name");
            } else if (VIDEO.equals(name)) {
                if (sawVideo) failure = new ApiException(400, "more than one '" + VIDEO + "' part");
                sawVideo = true;
            } else if (isFile) {
                failure = new ApiException(400, "unexpected file part '" + JobOptions.abbreviate(name)
                        + "' (the video goes in '" + VIDEO + "')");
            } else if (fields.containsKey(name)) {
                failure = new ApiException(400, "field '" + JobOptions.abbreviate(name) + "' given twice");
            }
        }

        @Override
        public void onPartContent(Content.Chunk chunk) {
            if (failure != null) return;
            ByteBuffer b = chunk.getByteBuffer();
            if (VIDEO.equals(name)) {
                videoBytes += b.remaining();
                if (videoBytes > maxVideoBytes) {
                    failure = new ApiException(413, "the video is larger than the limit of "
                            + ServeConfig.megabytes(maxVideoBytes));
                    return;
                }
                try {
                    while (b.hasRemaining()) video.write(b);
                } catch (IOException e) {
                    failure = new ApiException(507, "cannot store the upload: " + e.getMessage());
                }
            } else if (b.remaining() > field.remaining()) {
                failure = new ApiException(400, "field '" + JobOptions.abbreviate(name) + "' is longer than "
                        + MAX_FIELD_BYTES + " bytes");
            } else {
                field.put(b);
            }
        }

        @Override
        public void onPartEnd() {
            if (failure != null || VIDEO.equals(name)) return;
            field.flip();
            try {
                CharBuffer text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(field);
                fields.put(name, text.toString());
            } catch (CharacterCodingException e) {
                failure = new ApiException(400, "field '" + JobOptions.abbreviate(name) + "' is not valid UTF-8");
            }
        }

        @Override
        public void onComplete() {
            complete = true;
        }

        @Override
        public void onFailure(Throwable t) {
            if (failure == null) {
                failure = new ApiException(400, "malformed multipart form"
                        + (t.getMessage() == null ? "" : ": " + JobOptions.abbreviate(t.getMessage())));
            }
        }
    }
}
