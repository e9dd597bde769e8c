using SecondBrain.Core.Knowledge.Analysis.Rules;

namespace SecondBrain.Tests.Unit.Knowledge;

/// <summary>The language rules behind the detectors: answers that take up the question, plans without a time, unowned duties.</summary>
public sealed class GapRulesGeneralisationTests
{
    [Theory]
    [InlineData("Can we keep the old route export in CSV for a while after go-live?", "the CSV route export stays available until 30 April 2026", true)]
    [InlineData("is the 99.9% measured including planned maintenance windows, or are those excluded?", "Planned maintenance is excluded, provided we announce it at least 5 working days in advance.", true)]
    [InlineData("Kwame Osei: Does Tollgate already support the new digital transit declarations in Norway?", "Olga Petrova: yes, Tollgate files the new digital transit declarations since the 19 Feb release", true)]
    [InlineData("What do I tell the existing Basic customers, e.g. Nordlys?", "Existing Basic customers stay on Basic until their current contract term ends.", true)]
    [InlineData("Who do I ask about Beacon alerts?", "Priya Raman owns the Beacon alerting system.", true)]
    [InlineData("Daniel Okafor: Is the Rotterdam office closed on King's Day (27 April) or is that a normal working day for us?", "Pieter van der Berg: King's Day is the best day of teh year in Rotterdam :orange_heart: the street parties alone are worth it", false)]
    [InlineData("Are we keeping the Grafana alerts for the old cluster once it's drained, or deleting them?", "The warehouse replica on the old cluster can go once Yuki has moved the loads.", false)]
    public void A_reply_answers_only_when_it_takes_up_what_is_asked(string question, string reply, bool answers) =>
        Assert.Equal(answers, AnswerRules.Answers(question, AnswerRules.FocusOf(question), reply));

    [Theory]
    [InlineData("we're going to move Relay off the old RabbitMQ cluster after the second SRE starts", true)]
    [InlineData("Tollgate is going to get an ICS2 filing module at some point, but nothing is planned or estimated yet.", true)]
    [InlineData("The v1 API will be switched off down the road, once the remaining integrations have moved to v2.", true)]
    [InlineData("We plan to open a small sales office in Hamburg when hiring picks up again.", true)]
    [InlineData("We will migrate the Helios data warehouse to the new cluster.", true)]
    [InlineData("We will migrate the Helios data warehouse to the new cluster by March 15.", false)]
    [InlineData("As usual I'll handle the renewal and keep the policies in the finance folder.", false)]
    [InlineData("Kwame will be your day-to-day contact after signing.", false)]
    public void Plans_with_no_time_or_only_a_vague_one_miss_their_time(string sentence, bool misses) => Assert.Equal(misses, PlanRules.MissesTime(sentence));

    [Theory]
    [InlineData("The customs tariff table in Tollgate has to be reloaded every January and July when Tolletaten publishes the new tariff.", true)]
    [InlineData("All three domains (halvorsenfreight.com, .no and .nl) renew every November, and the renewal invoices still go to an old mailbox.", true)]
    [InlineData("A public post-mortem is published on the status page within five working days after every P1 incident.", true)]
    [InlineData("The certificate renewal happens every 90 days.", true)]
    [InlineData("Nightly full backup at 01:30 CET plus continuous WAL archiving, run and checked by Tomasz.", false)]
    [InlineData("Postgres 16 with nightly backups to a separate bucket (I run and check the backups like before)", false)]
    [InlineData("Every carrier message is translated into RCX first.", false)]
    [InlineData("New customers start on Waypoint Pro (EUR 1,850 per month, billed annually) or Enterprise.", false)]
    [InlineData("This policy is reviewed every May by the policy owner.", false)]
    public void Recurring_duties_naming_nobody_are_unowned(string sentence, bool unowned) =>
        Assert.Equal(unowned, DutyRules.IsDuty(sentence) && !DutyRules.NamesOwner(sentence));
}

public sealed class ValueRulesTests
{
    [Theory]
    [InlineData("Service levels (schedule 2): Tollgate availability commitment of 99.9% per calendar month", "Tollgate guarantees 99.95% uptime for customs filings, backed by service credits", true)]
    [InlineData("Our recovery time objective for Tollgate production is 2 hours", "Target restore time for Tollgate production: 4 h from the decision to restore until declarations can be filed again.", true)]
    [InlineData("Relay is priced per message: €0.04 per EDI message on the Standard plan", "Messages: Relay is billed at our list price of 4.5 euro cents per transaction, invoiced monthly in arrears.", true)]
    [InlineData("Our recovery time objective for Tollgate production is 2 hours", "The recovery point objective for Tollgate production is 15 minutes.", false)]
    [InlineData("we raised the Relay inbound rate limit from 50 to 120 requests per second per carrier today", "Relay inbound rate limit: 120 requests per second per carrier", false)]
    public void Near_miss_values_about_the_same_thing_can_contradict(string a, string b, bool candidate)
    {
        var left = ValueRules.Find(a);
        var right = ValueRules.Find(b);
        Assert.Equal(candidate, left.Any(x => right.Any(y => ValueRules.NearMiss(x, y) && x.Names.Overlaps(y.Names))));
    }
}
