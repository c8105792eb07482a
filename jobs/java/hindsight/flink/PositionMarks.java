package hindsight.flink;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Chained in front of a sink topic's writer: passes the changes through and, whenever the
 * watermark (a log position, see {@link PositionWatermarks}) rises, writes a mark
 * {@code {"mark":W,"subtask":i,"of":n}} after them. It goes into the same Kafka transaction as
 * the changes before it, so a sink worker that has made everything before the marks of all n
 * writer subtasks durable holds every change of every event up to the lowest of them.
 */
public final class PositionMarks extends AbstractStreamOperator<String>
        implements OneInputStreamOperator<String, String> {
    private static final long serialVersionUID = 1L;

    private transient long written;

    @Override
    public void open() throws Exception {
        super.open();
        written = Long.MIN_VALUE;
    }

    @Override
    public void processElement(StreamRecord<String> element) {
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark watermark) throws Exception {
        long position = watermark.getTimestamp();
        // Long.MAX_VALUE: a bounded source (a replay) ended; it is no position of the log
        if (position > written && position != Long.MAX_VALUE) {
            written = position;
            int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
            int of = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
            output.collect(
                    new StreamRecord<>(
                            "{\"mark\":" + position + ",\"subtask\":" + subtask + ",\"of\":" + of + "}"));
        }
        super.processWatermark(watermark);
    }
}
