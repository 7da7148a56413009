package io.tourniquet.bench;

import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobExecutionResult;

/**
 * The detect job as it is deployed, replaying the pre-loaded input (bounded: it reads the offsets
 * that were latest when it started and ends) on an embedded cluster in this JVM. The wall-clock
 * instants around it, on the same machine as the broker, let its output's append times split the
 * run into deployment (start to first output), the measured span (first to last output) and the
 * end-of-input draining (last output to the job's end).
 */
public final class DetectReplay {
    private DetectReplay() {}

    /**
     * @param startMillis      wall clock before the job was built
     * @param endMillis        wall clock once {@code execute} returned
     * @param netRuntimeMillis the cluster's own runtime figure for the job
     * @param gc               garbage collection from start to end
     */
    public record Result(long startMillis, long endMillis, long netRuntimeMillis, GcPauses.Window gc) {}

    public static Result run(TourniquetConfig cfg, String jobName) throws Exception {
        try (GcPauses gc = GcPauses.start()) {
            long start = System.currentTimeMillis();
            JobExecutionResult result = DetectJobRunner.build(cfg, true).execute(jobName);
            long end = System.currentTimeMillis();
            return new Result(start, end, result.getNetRuntime(TimeUnit.MILLISECONDS), gc.stop());
        }
    }
}
