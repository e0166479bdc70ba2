package io.github.v2a4j.serve;

import java.util.Locale;

/** Where a job is: waiting, generating, or finished one of three ways. */
public enum JobState {
    QUEUED, RUNNING, DONE, FAILED, CANCELLED;

    public boolean terminal() {
        return this == DONE || this == FAILED || this == CANCELLED;
    }

    /** The name the API uses. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
