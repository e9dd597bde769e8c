using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Tests.Unit.Knowledge;

public sealed class FrameExtractionTests
{
    private static Frame Single(string sentence, FrameType type) =>
        Assert.Single(SentenceAnalyzer.Analyze(sentence).Frames, f => f.Type == type);

    private static void AssertSlot(Frame frame, string slot, string expected) =>
        Assert.True(frame.Slots.TryGetValue(slot, out var actual) && actual == expected,
            $"{frame.Type} slot '{slot}': expected '{expected}', got '{(frame.Slots.TryGetValue(slot, out var a) ? a : "<missing>")}'");

    [Fact]
    public void Decision_with_agent_object_and_rationale()
    {
        const string sentence = "After a long discussion, the team decided to move billing to Postgres because the Oracle licence is too expensive.";
        var decision = Single(sentence, FrameType.Decision);
        AssertSlot(decision, FrameSlots.Agent, "team");
        AssertSlot(decision, FrameSlots.Object, "move billing to Postgres");
        AssertSlot(decision, FrameSlots.Rationale, "Oracle licence is too expensive");
        Assert.Empty(decision.MissingSlots);
        Assert.False(decision.Negated);
        Assert.Equal("decided to", sentence[decision.TriggerRange.Start..decision.TriggerRange.End]);
        Assert.Equal("team", sentence[decision.SlotRanges[FrameSlots.Agent].Start..decision.SlotRanges[FrameSlots.Agent].End]);
    }

    [Fact]
    public void Decision_without_a_reason_misses_its_rationale()
    {
        var decision = Single("We decided to move billing to Postgres by Friday.", FrameType.Decision);
        Assert.Equal([FrameSlots.Rationale], decision.MissingSlots);
        AssertSlot(decision, FrameSlots.Time, "by Friday");
        AssertSlot(decision, FrameSlots.Object, "move billing to Postgres");
    }

    [Theory]
    [InlineData("We chose Kafka so that replays stay cheap.", "replays stay cheap")]
    [InlineData("Due to the audit findings, we agreed to rotate all keys.", "audit findings")]
    [InlineData("We opted for weekly releases to reduce risk.", "reduce risk")]
    public void Rationale_cues_before_and_after_the_trigger(string sentence, string rationale)
    {
        var decision = Single(sentence, FrameType.Decision);
        AssertSlot(decision, FrameSlots.Rationale, rationale);
        Assert.DoesNotContain(FrameSlots.Rationale, decision.MissingSlots);
    }

    [Fact]
    public void Passive_decisions_find_their_object_on_the_left()
    {
        var decision = Single("The Q3 budget was approved by the finance committee.", FrameType.Decision);
        AssertSlot(decision, FrameSlots.Object, "Q3 budget");
        AssertSlot(decision, FrameSlots.Agent, "finance committee");

        var agreed = Single("It was agreed that we will postpone the migration until next quarter.", FrameType.Decision);
        AssertSlot(agreed, FrameSlots.Object, "we will postpone the migration");
        AssertSlot(agreed, FrameSlots.Time, "until next quarter");
        Assert.Contains(FrameSlots.Agent, agreed.MissingSlots);
    }

    [Fact]
    public void Process_with_owner_frequency_and_steps()
    {
        var process = Single("Maria runs the release process every Monday: first build, then test, finally deploy.", FrameType.Process);
        AssertSlot(process, FrameSlots.Object, "release process");
        AssertSlot(process, FrameSlots.Owner, "Maria");
        Assert.StartsWith("first build", process.Slots[FrameSlots.Steps]);

        var nightly = Single("The DataSync job runs nightly.", FrameType.Process);
        AssertSlot(nightly, FrameSlots.Frequency, "nightly");
        AssertSlot(nightly, FrameSlots.Object, "DataSync job");
        Assert.Equal([FrameSlots.Owner], nightly.MissingSlots);
    }

    [Fact]
    public void Ownership_both_ways_round()
    {
        var owns = Single("Maria owns the billing pipeline.", FrameType.Ownership);
        AssertSlot(owns, FrameSlots.Owner, "Maria");
        AssertSlot(owns, FrameSlots.Object, "billing pipeline");

        var owned = Single("Project Falcon is owned by the platform team.", FrameType.Ownership);
        AssertSlot(owned, FrameSlots.Object, "Project Falcon");
        AssertSlot(owned, FrameSlots.Owner, "platform team");

        var responsible = Single("Dr. Sarah Chen is responsible for the incident review.", FrameType.Ownership);
        AssertSlot(responsible, FrameSlots.Owner, "Dr. Sarah Chen");
        AssertSlot(responsible, FrameSlots.Object, "incident review");

        var ownerOf = Single("The owner of the ledger service is Li Wei.", FrameType.Ownership);
        AssertSlot(ownerOf, FrameSlots.Object, "ledger service");
        AssertSlot(ownerOf, FrameSlots.Owner, "Li Wei");
    }

    [Fact]
    public void Event_with_time_and_place()
    {
        var meeting = Single("The quarterly planning meeting will take place on June 12 in Houston.", FrameType.Event);
        AssertSlot(meeting, FrameSlots.Object, "quarterly planning meeting");
        AssertSlot(meeting, FrameSlots.Time, "on June 12");
        AssertSlot(meeting, FrameSlots.Place, "Houston");

        var launch = Single("The launch is scheduled for March 3, 2025.", FrameType.Event);
        AssertSlot(launch, FrameSlots.Object, "launch");
        AssertSlot(launch, FrameSlots.Time, "March 3, 2025");
        Assert.Empty(launch.MissingSlots);

        var retro = Single("Let's hold the retro on Zoom.", FrameType.Event);
        AssertSlot(retro, FrameSlots.Place, "Zoom");
        Assert.Equal([FrameSlots.Time], retro.MissingSlots);
    }

    [Fact]
    public void Constraint_with_object_and_limit()
    {
        var modal = Single("Deployments must not happen on Fridays.", FrameType.Constraint);
        Assert.Equal("must not", modal.Trigger);
        AssertSlot(modal, FrameSlots.Object, "Deployments");
        AssertSlot(modal, FrameSlots.Limit, "happen on Fridays");

        var limit = Single("The budget must not exceed $50k per quarter.", FrameType.Constraint);
        AssertSlot(limit, FrameSlots.Object, "budget");
        Assert.Contains("$50k", limit.Slots[FrameSlots.Limit]);
    }

    [Fact]
    public void Definition_with_term_and_definition()
    {
        var stands = Single("SLA stands for service level agreement.", FrameType.Definition);
        AssertSlot(stands, FrameSlots.Term, "SLA");
        AssertSlot(stands, FrameSlots.Definition, "service level agreement");

        var called = Single("The nightly reconciliation job is called Sweeper.", FrameType.Definition);
        AssertSlot(called, FrameSlots.Term, "Sweeper");
        AssertSlot(called, FrameSlots.Definition, "nightly reconciliation job");

        Assert.DoesNotContain(SentenceAnalyzer.Analyze("This means we need another week.").Frames, f => f.Type == FrameType.Definition);
    }

    [Fact]
    public void Metric_with_value_unit_and_time()
    {
        var revenue = Single("Revenue increased by 12% in Q3 2025.", FrameType.Metric);
        AssertSlot(revenue, FrameSlots.Metric, "Revenue");
        AssertSlot(revenue, FrameSlots.Value, "12%");
        AssertSlot(revenue, FrameSlots.Unit, "%");
        AssertSlot(revenue, FrameSlots.Time, "in Q3 2025");

        var latency = Single("p95 latency dropped to 180ms after the cache change.", FrameType.Metric);
        AssertSlot(latency, FrameSlots.Value, "180ms");
        AssertSlot(latency, FrameSlots.Unit, "ms");

        // A metric word with no number is not a metric statement.
        Assert.DoesNotContain(SentenceAnalyzer.Analyze("Revenue matters to everyone here.").Frames, f => f.Type == FrameType.Metric);
    }

    [Fact]
    public void Problem_with_object_cause_and_owner()
    {
        var bug = Single("The checkout bug was caused by a race condition in the Atlas service.", FrameType.Problem);
        AssertSlot(bug, FrameSlots.Object, "checkout bug");
        AssertSlot(bug, FrameSlots.Cause, "race condition in the Atlas service");
        Assert.Equal([FrameSlots.Owner], bug.MissingSlots);

        var failed = Single("Payments failed yesterday due to an expired certificate.", FrameType.Problem);
        AssertSlot(failed, FrameSlots.Object, "Payments");
        AssertSlot(failed, FrameSlots.Cause, "expired certificate");
        AssertSlot(failed, FrameSlots.Time, "yesterday");

        var assigned = SentenceAnalyzer.Analyze("The outage is assigned to Dr. Sarah Chen.");
        AssertSlot(Assert.Single(assigned.Frames, f => f.Type == FrameType.Problem), FrameSlots.Owner, "Dr. Sarah Chen");

        var rootCause = Single("The root cause of the outage was a full disk.", FrameType.Problem);
        AssertSlot(rootCause, FrameSlots.Object, "outage");
        AssertSlot(rootCause, FrameSlots.Cause, "full disk");
    }

    [Theory]
    [InlineData("Who owns the billing pipeline?", "who", "owns the billing pipeline")]
    [InlineData("When is the launch?", "when", "launch")]
    [InlineData("can someone review the deploy checklist", "yes/no", "someone review the deploy checklist")]
    [InlineData("Is the SSO rollout blocked?", "yes/no", "SSO rollout blocked")]
    public void Questions_are_frames_too(string sentence, string asks, string topic)
    {
        var analysis = SentenceAnalyzer.Analyze(sentence);
        Assert.True(analysis.IsQuestion);
        var question = Assert.Single(analysis.Frames, f => f.Type == FrameType.Question);
        AssertSlot(question, FrameSlots.Asks, asks);
        AssertSlot(question, FrameSlots.Topic, topic);
        Assert.Empty(analysis.Claims);
    }

    [Theory]
    [InlineData("When we launched, the team celebrated.")]
    [InlineData("How to deploy: run the script.")]
    [InlineData("Do not deploy on Fridays.")]
    [InlineData("<https://example.com> is a great place to ask questions")]
    public void Statements_that_start_like_questions_are_not_questions(string sentence)
    {
        Assert.False(SentenceAnalyzer.Analyze(sentence).IsQuestion);
    }

    [Theory]
    [InlineData("We did not decide to cancel the offsite.", FrameType.Decision)]
    [InlineData("We never agreed to a freeze.", FrameType.Decision)]
    [InlineData("We decided against renewing the contract.", FrameType.Decision)]
    [InlineData("Maria no longer owns the billing pipeline.", FrameType.Ownership)]
    [InlineData("There is no process for refunds.", FrameType.Process)]
    [InlineData("The launch isn't scheduled for March.", FrameType.Event)]
    [InlineData("Neither team agreed to the freeze.", FrameType.Decision)]
    [InlineData("The team moved on without a final decision.", FrameType.Decision)]
    public void Negation_cues_negate_the_frame(string sentence, FrameType type)
    {
        Assert.True(Single(sentence, type).Negated);
    }

    [Theory]
    [InlineData("We decided to drop the feature that is not used.", FrameType.Decision)]
    [InlineData("No worries, we decided to ship on Monday.", FrameType.Decision)]
    [InlineData("Maria owns the billing pipeline, not the ledger.", FrameType.Ownership)]
    public void Negation_elsewhere_in_the_sentence_does_not(string sentence, FrameType type)
    {
        Assert.False(Single(sentence, type).Negated);
    }

    [Fact]
    public void Negation_does_not_reach_past_another_verb()
    {
        var analysis = SentenceAnalyzer.Analyze("We did not decide to cancel the offsite.");
        Assert.True(Assert.Single(analysis.Frames, f => f.Type == FrameType.Decision).Negated);
        Assert.False(Assert.Single(analysis.Frames, f => f.Type == FrameType.Event).Negated);
    }

    [Theory]
    [InlineData("Please call Kay about the invoice.")]
    [InlineData("We process refunds within a day.")]
    [InlineData("Run the smoke tests before merging.")]
    [InlineData("The approved budget is in the sheet.")]
    public void Verb_and_adjective_uses_of_triggers_make_no_frame(string sentence)
    {
        var analysis = SentenceAnalyzer.Analyze(sentence);
        Assert.DoesNotContain(analysis.Frames, f => f.Type is FrameType.Event or FrameType.Process or FrameType.Ownership or FrameType.Decision);
    }

    [Fact]
    public void Confidence_reflects_missing_slots()
    {
        var complete = Single("Because costs rose, the board decided to close the office.", FrameType.Decision);
        var partial = Single("The board decided to close the office.", FrameType.Decision);
        Assert.True(complete.Confidence > partial.Confidence);
        Assert.InRange(partial.Confidence, 0.01, 1.0);
    }

    [Fact]
    public void Required_slots_are_published_per_frame_type()
    {
        Assert.Equal([FrameSlots.Agent, FrameSlots.Object, FrameSlots.Rationale], FrameSlots.Required(FrameType.Decision));
        Assert.Contains(FrameSlots.Owner, FrameSlots.Required(FrameType.Process));
        Assert.Contains(FrameSlots.Cause, FrameSlots.Required(FrameType.Problem));
        Assert.All(Enum.GetValues<FrameType>(), type => Assert.NotEmpty(FrameSlots.Required(type)));
    }
}
