namespace SecondBrain.Core.Knowledge.Extraction;

public sealed partial class TriggerLexicon
{
    /// <summary>
    /// The built-in lexicon. Inflections need not be listed ("decided to" also finds "decides to", "deciding to"),
    /// and two phrases that stem alike are rejected when the lexicon is built.
    /// </summary>
    public static IEnumerable<TriggerEntry> DefaultEntries()
    {
        // Decisions.
        foreach (var e in Frame(FrameType.Decision, TriggerRole.Active, 0.9,
            "decided to", "decided that", "decided on", "made the decision to", "made a decision to", "agreed to", "agreed that",
            "agreed on", "we will go with", "opted for", "opted to", "chose to", "settled on", "concluded that", "resolved to",
            "committed to", "signed off on", "voted to", "elected to", "determined that", "will move forward with",
            "moving forward with", "will switch to", "standardize on", "we will use", "we'll go with", "we'll use",
            "have chosen", "has chosen", "greenlit", "gave the green light to"))
        {
            yield return e;
        }

        foreach (var e in Frame(FrameType.Decision, TriggerRole.Active, 0.6, "go with", "approved", "chose", "selected", "adopted"))
        {
            yield return e;
        }

        foreach (var e in Frame(FrameType.Decision, TriggerRole.Active, 0.9,
            "decided against", "decided not to", "agreed not to", "chose not to", "opted against", "opted not to",
            "voted against", "ruled out", "declined to", "will not go with", "rejected", "vetoed", "abandoned the plan to"))
        {
            yield return e with { Negates = true };
        }

        foreach (var e in Frame(FrameType.Decision, TriggerRole.Passive, 0.85,
            "was decided", "has been decided", "it was agreed", "was approved", "has been approved", "were approved",
            "was chosen", "was selected", "got approved", "is approved", "was signed off", "is final", "was finalized"))
        {
            yield return e;
        }

        foreach (var e in Frame(FrameType.Decision, TriggerRole.Noun, 0.8,
            "the decision is", "the decision was", "final decision", "decision to", "the plan is to", "the call is to",
            "the call was made to", "made the call to", "we are dropping", "we're dropping", "we are discontinuing"))
        {
            yield return e;
        }

        // Processes.
        foreach (var e in Frame(FrameType.Process, TriggerRole.Noun, 0.6,
            "process", "procedure", "workflow", "runbook", "playbook", "checklist", "protocol", "standard operating procedure",
            "sop", "routine", "step by step", "steps to", "the following steps", "how to", "cadence", "rotation", "on-call",
            "handoff", "escalation path", "approval flow", "release train"))
        {
            yield return e;
        }

        foreach (var e in Frame(FrameType.Process, TriggerRole.Frequency, 0.8,
            "every day", "every week", "every month", "every quarter", "every year", "every morning", "every evening",
            "every night", "every sprint", "every release", "every weekday", "every other week", "every two weeks",
            "every monday", "every tuesday", "every wednesday", "every thursday", "every friday", "every saturday",
            "every sunday", "each day", "each week", "each month", "each quarter", "each sprint", "daily", "weekly", "biweekly", "bi-weekly", "monthly", "quarterly",
            "yearly", "annually", "hourly", "nightly", "once a week", "once a month", "twice a week", "twice a month",
            "once a day", "twice a day", "once a quarter", "once a year", "every other month", "every other day",
            // Generic: only inside a frequency expression ("every 90 days", "each other week", "3 times a week").
            "every", "each", "times"))
        {
            yield return e;
        }

        // Ownership.
        foreach (var e in Frame(FrameType.Ownership, TriggerRole.Active, 0.85,
            "responsible for", "in charge of", "accountable for", "point of contact for", "dri for", "has ownership of",
            "took ownership of", "is the go-to person for", "takes care of", "maintains",
            // Responsibility in its other forms: "I look after the alerting", "the only one who can set up ...".
            "looks after", "keeping ownership of", "kept ownership of", "is the only one who can",
            "the only one who can", "the only one with", "the only one able to", "on the hook for", "supervise", "chairs"))
        {
            yield return e;
        }

        foreach (var e in Frame(FrameType.Ownership, TriggerRole.Active, 0.6,
            "owns", "manages", "leads", "handles", "looking into", "investigating", "working on", "oversees", "runs the",
            "run", "ran", "renew", "booking", "approve all", "writes the"))
        {
            yield return e;
        }

        foreach (var e in Frame(FrameType.Ownership, TriggerRole.Passive, 0.85,
            "owned by", "maintained by", "managed by", "run by", "led by", "handled by", "assigned to", "belongs to", "overseen by",
            "done by", "goes through", "comes to", "checked by", "sits with"))
        {
            yield return e;
        }

        foreach (var e in Frame(FrameType.Ownership, TriggerRole.OwnerOf, 0.85, "owner of", "the owner is", "the owner for"))
        {
            yield return e;
        }

        // Events.
        foreach (var e in Frame(FrameType.Event, TriggerRole.Noun, 0.6,
            "meeting", "launch", "release date", "launch date", "offsite", "kickoff", "kick-off", "all-hands", "standup",
            "stand-up", "retro", "retrospective", "demo", "workshop", "conference", "webinar", "town hall", "go-live",
            "deadline", "planning session", "presentation", "training", "cutover", "maintenance window", "board meeting",
            "interview", "summit", "review session", "sync", "call"))
        {
            yield return e with { Weight = e.Phrase is "call" or "sync" or "training" or "launch" ? 0.4 : e.Weight };
        }

        foreach (var e in Frame(FrameType.Event, TriggerRole.Passive, 0.85,
            "scheduled for", "is scheduled", "planned for", "set for", "slated for", "will take place", "took place",
            "takes place", "will be held", "was held", "happened on", "occurred on", "postponed to", "postponed until",
            "rescheduled for", "rescheduled to", "goes live", "went live", "will go live", "kicks off", "starts on",
            "begins on", "ends on", "is due", "due on", "due by", "launches on"))
        {
            yield return e;
        }

        // Constraints.
        foreach (var e in Frame(FrameType.Constraint, TriggerRole.Passive, 0.75,
            "must", "must not", "must never", "cannot", "can not", "can't", "should not", "shouldn't", "mustn't", "may not",
            "not allowed to", "is not allowed", "are not allowed", "is required", "required to", "is mandatory", "mandatory",
            "is prohibited", "prohibited", "forbidden", "need to", "has to", "have to", "only allowed",
            "restricted to", "limited to", "no later than", "in compliance with", "policy"))
        {
            yield return e with { Weight = e.Phrase is "policy" or "need to" or "have to" or "has to" ? 0.5 : e.Weight };
        }

        foreach (var e in Frame(FrameType.Constraint, TriggerRole.Limit, 0.8,
            "at most", "at least", "no more than", "no less than", "not exceed", "not to exceed", "maximum of", "minimum of",
            "limit of", "cap of", "capped at", "budget of", "quota of", "up to a maximum of"))
        {
            yield return e;
        }

        // Definitions.
        foreach (var e in Frame(FrameType.Definition, TriggerRole.TermFirst, 0.9,
            "defined as", "stands for", "short for", "abbreviation for", "abbreviation of", "refers to", "term for",
            "shorthand for", "synonymous with", "denotes", "is the acronym for", "means"))
        {
            yield return e with { Weight = e.Phrase == "means" ? 0.5 : e.Weight };
        }

        foreach (var e in Frame(FrameType.Definition, TriggerRole.TermLast, 0.8, "is called", "are called", "known as", "referred to as", "we call"))
        {
            yield return e;
        }

        // Metrics.
        foreach (var e in Frame(FrameType.Metric, TriggerRole.Passive, 0.85,
            "increased by", "increased to", "decreased by", "decreased to", "grew by", "grew to", "rose by", "rose to",
            "dropped by", "dropped to", "fell by", "fell to", "went up", "went down", "declined by", "improved by",
            "reduced by", "reduced to", "reached", "peaked at", "up by", "down by", "doubled", "tripled", "halved",
            "year over year", "month over month", "quarter over quarter"))
        {
            yield return e;
        }

        foreach (var e in Frame(FrameType.Metric, TriggerRole.Noun, 0.6,
            "revenue", "latency", "uptime", "availability", "churn", "churn rate", "conversion rate", "error rate",
            "response time", "throughput", "kpi", "nps", "arr", "mrr", "margin", "growth", "retention", "headcount", "p95",
            "p99", "sla", "slo", "cost", "sales", "usage", "active users", "dau", "mau", "bounce rate", "utilization",
            "burn rate", "runway", "percentage", "average", "median", "volume", "profit", "earnings"))
        {
            yield return e;
        }

        // Problems.
        foreach (var e in Frame(FrameType.Problem, TriggerRole.Noun, 0.7,
            "bug", "issue", "problem", "outage", "incident", "error", "failure", "regression", "blocker", "defect",
            "glitch", "root cause", "vulnerability", "memory leak", "downtime", "degradation", "bottleneck", "complaint",
            "exception", "crash", "risk", "concern"))
        {
            yield return e with { Weight = e.Phrase is "risk" or "concern" or "issue" ? 0.5 : e.Weight };
        }

        foreach (var e in Frame(FrameType.Problem, TriggerRole.Passive, 0.8,
            "failed", "broke", "broken", "is down", "are down", "was down", "stopped working", "not working",
            "doesn't work", "does not work", "didn't work", "timed out", "blocked by", "unable to", "keeps failing",
            "went wrong", "is slow", "was slow", "are slow"))
        {
            yield return e;
        }

        // Slot cues.
        foreach (var phrase in new[]
        {
            "because", "since", "so that", "due to", "in order to", "as a result of", "given that", "the reason",
            "reason being", "the rationale", "so we can", "so we could", "thanks to", "owing to", "on account of",
            "considering that", "the goal is to", "with the aim of", "for the sake of"
        })
        {
            yield return new TriggerEntry(phrase, null, TriggerRole.Rationale, 1.0);
        }

        foreach (var phrase in new[]
        {
            "to avoid", "to reduce", "to improve", "to ensure", "to prevent", "to save", "to cut", "to lower",
            "to simplify", "to speed up", "to minimize", "to maximize", "to comply with", "to meet", "to increase",
            "to support", "to enable", "to protect"
        })
        {
            yield return new TriggerEntry(phrase, null, TriggerRole.Purpose, 1.0);
        }

        foreach (var phrase in new[] { "caused by", "triggered by", "resulted from", "stems from", "traced to", "traced back to", "the culprit", "because of", "the cause" })
        {
            yield return new TriggerEntry(phrase, null, TriggerRole.Cause, 1.0);
        }

        foreach (var phrase in new[] { "first", "then", "next", "finally", "after that", "afterwards", "lastly", "followed by", "step one", "once that is done" })
        {
            yield return new TriggerEntry(phrase, null, TriggerRole.Step, 1.0);
        }
    }

    private static IEnumerable<TriggerEntry> Frame(FrameType frame, TriggerRole role, double weight, params string[] phrases) =>
        phrases.Select(phrase => new TriggerEntry(phrase, frame, role, weight));
}
