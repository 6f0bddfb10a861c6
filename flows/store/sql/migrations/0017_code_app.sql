-- 0017 code app: whether the coding app shows coders the machine's suggestions in a round.
-- Off unless turned on (`ethnoflow code-app --suggestions`); a row is kept once it was on, so the
-- report can say that coders of that round may have been anchored by the machine's codes even
-- after it was turned off again. Coders' tokens are never stored (they live in the app's memory).
CREATE TABLE coding_round_suggestions (
    round_id     VARCHAR PRIMARY KEY,   -- coding_rounds.round_id
    machine      VARCHAR NOT NULL,      -- the machine coder whose codes were suggested (auto)
    shown        BOOLEAN NOT NULL       -- shown now; false: it was on, then turned off
);
