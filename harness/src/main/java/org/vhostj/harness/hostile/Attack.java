package org.vhostj.harness.hostile;

/**
 * One hostile action and what came of it.
 *
 * @param name            what was sent (named after the attack)
 * @param kind            "message" (vhost-user protocol) or "chain" (descriptor chain / ring)
 * @param outcome         what the backend did with it, in words
 * @param accepted        the backend acknowledged or answered something it should have refused
 * @param alive           the backend process still runs (null: no pid given)
 * @param sameQueueServes a valid request on the attacked queue completed afterwards (null: not applicable)
 * @param backendServes   a fresh connection set up and served a valid request afterwards
 */
public record Attack(String name, String kind, String outcome, boolean accepted, Boolean alive, Boolean sameQueueServes,
                     boolean backendServes) {
    /** The blast radius held: the process lives and keeps serving new connections. */
    public boolean passed() { return !Boolean.FALSE.equals(alive) && backendServes; }
}
