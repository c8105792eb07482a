package hindsight.flink;

import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.tuple.Tuple;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * Emits the elements of one field of a Python operator's bundle (a Tuple or a Row): every element when the
 * field is an array, the value itself when it is a scalar, nothing when it is null; or, given
 * a second field, the pairs (first[i], second[i]) of two arrays of one length, as Rows.
 *
 * <p>Why in Java: a Python operator in thread mode pays one Python/JVM crossing per record
 * it emits, and a side output costs another. So each Python operator of the projection job
 * emits ONE record per input (a Row whose fields are arrays: the routed events of every
 * stage, the Elasticsearch and Neo4j changes, the next stage's events), and this chained
 * Java flat map fans it out at JVM speed.
 *
 * <p>Why pairs of arrays rather than an array of Rows: PyFlink's converter of an array of
 * Rows reuses one Row for every element, so all elements of such an array arrive as the last
 * one (seen with apache-flink 2.2.0, thread mode).
 */
public final class Explode<T> implements FlatMapFunction<Object, T>, ResultTypeQueryable<T> {
    private static final long serialVersionUID = 1L;

    private final int field;
    private final int paired;
    private final TypeInformation<T> type;

    public Explode(int field, TypeInformation<T> type) {
        this(field, -1, type);
    }

    public Explode(int field, int paired, TypeInformation<T> type) {
        this.field = field;
        this.paired = paired;
        this.type = type;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void flatMap(Object bundle, Collector<T> out) {
        Object value = field(bundle, field);
        if (value == null) {
            return;
        }
        if (paired >= 0) {
            Object[] first = (Object[]) value;
            Object[] second = (Object[]) field(bundle, paired);
            if (second == null || second.length != first.length) {
                throw new IllegalArgumentException(
                        "bundle fields " + field + " and " + paired + " differ in length");
            }
            for (int i = 0; i < first.length; i++) {
                out.collect((T) Row.of(first[i], second[i]));
            }
        } else if (value instanceof Object[]) {
            for (Object element : (Object[]) value) {
                if (element != null) {
                    out.collect((T) element);
                }
            }
        } else {
            out.collect((T) value);
        }
    }

    private static Object field(Object bundle, int index) {
        return bundle instanceof Tuple
                ? ((Tuple) bundle).getField(index)
                : ((Row) bundle).getField(index);
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return type;
    }
}
