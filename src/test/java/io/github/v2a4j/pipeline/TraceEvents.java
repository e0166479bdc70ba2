package io.github.v2a4j.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reading a trace-event profile in tests. */
public final class TraceEvents {
    private TraceEvents() {}

    /**
     * Checks {@code file} against the trace-event format's JSON array form and returns its events: every event has a
     * name, a known phase and a pid; every event but metadata a timestamp; "X" a non-negative duration; "B" and "E"
     * nest per track; on each track (and for the counters) timestamps never go back in file order.
     */
    public static List<JsonObject> valid(Path file) throws Exception {
        JsonElement root = JsonParser.parseString(Files.readString(file));
        JsonArray array = root.isJsonArray() ? root.getAsJsonArray() : root.getAsJsonObject().getAsJsonArray("traceEvents");
        List<JsonObject> events = new ArrayList<>();
        Map<String, Double> lastTs = new HashMap<>();
        Map<String, Deque<String>> open = new HashMap<>();
        for (JsonElement el : array) {
            JsonObject e = el.getAsJsonObject();
            events.add(e);
            assertThat(e.has("name") && e.has("ph") && e.has("pid")).as(e.toString()).isTrue();
            String ph = e.get("ph").getAsString();
            assertThat(ph).isIn("B", "E", "X", "C", "M", "i");
            if (ph.equals("M")) continue;
            double ts = e.get("ts").getAsDouble();
            String track = ph.equals("C") ? "counter " + e.get("name").getAsString() : "tid " + e.get("tid").getAsLong();
            assertThat(ts).as("timestamps on " + track + " never go back: " + e).isGreaterThanOrEqualTo(
                    lastTs.getOrDefault(track, 0.0));
            lastTs.put(track, ts);
            if (ph.equals("X")) assertThat(e.get("dur").getAsDouble()).isNotNegative();
            Deque<String> stack = open.computeIfAbsent(track, k -> new ArrayDeque<>());
            if (ph.equals("B")) stack.push(e.get("name").getAsString());
            if (ph.equals("E")) assertThat(stack.pop()).isEqualTo(e.get("name").getAsString());
        }
        open.forEach((track, stack) -> assertThat(stack).as("unclosed slices on " + track).isEmpty());
        return events;
    }
}
