using SecondBrain.Core.Knowledge.Analysis.Rules;
using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Tests.Unit.Knowledge;

/// <summary>
/// The language the detectors read, phrased the way people write it (not the evaluation's sentences): plans said
/// without a future verb, rules that hold rather than steps to take, duties in clauses, where secrets are kept,
/// announced procedures, and what "at X" and a bold name mean.
/// </summary>
public sealed class LanguageRulesTests
{
    [Theory]
    [InlineData("The idea is to sunset the legacy invoicing portal eventually, when the migration budget is approved.", true)]
    [InlineData("Printer fleet to be replaced further down the road, once the lease runs out.", true)]
    [InlineData("Staging cluster to be decommissioned at some point.", true)]
    [InlineData("Refunds above $500 will still need a manager's approval.", false)]
    [InlineData("Contract changes will require two signatures from the board.", false)]
    [InlineData("The movers will take the old desks away on the day.", false)]
    [InlineData("Printer fleet to be replaced in Q3.", false)]
    public void Plans_without_a_future_verb_and_rules_that_hold(string sentence, bool misses) => Assert.Equal(misses, PlanRules.MissesTime(sentence));

    [Theory]
    [InlineData("By Friday 27 March.", true)]
    [InlineData("Target: 9 February, if the vendor delivers.", true)]
    [InlineData("Sounds good, thanks!", false)]
    [InlineData("We talked about it on Monday 2 March.", false)]
    public void A_reply_that_opens_with_its_time_says_when(string sentence, bool opens) => Assert.Equal(opens, PlanRules.StartsWithTime(sentence));

    [Theory]
    [InlineData("The supplier contracts have to be re-checked every twelve months.", true)]
    [InlineData("The lobby sign has to come down every Sunday night and go back up every Monday at 07:00.", true)]
    [InlineData("Payroll exports are supposed to be archived every quarter, but last year nobody was sure where they went.", true)]
    [InlineData("The payroll export was archived every quarter until 2024.", false)]
    [InlineData("Once the request is approved he updates the access list every Friday.", false)]
    public void Duties_are_read_clause_by_clause(string sentence, bool unownedDuty) =>
        Assert.Equal(unownedDuty, DutyRules.IsDuty(sentence) && !DutyRules.NamesOwner(sentence));

    [Theory]
    [InlineData("The wallet seed phrase is written on a card in the blue folder in the server room.", true)]
    [InlineData("The alarm PIN is in a sealed envelope in the finance office safe.", true)]
    [InlineData("Here are the steps for rebuilding the search index from a snapshot:", true)]
    [InlineData("This is how to reset the door controller when it locks everyone out.", true)]
    [InlineData("Everyone signs in with their own password and a second factor.", false)]
    public void Where_secrets_are_kept_and_announced_procedures_are_operational(string sentence, bool operational) =>
        Assert.Equal(operational, OperationalRules.IsOperational(sentence));

    [Theory]
    [InlineData("Our contact at Brightwater sent the new price list.", true)]
    [InlineData("She used to work at Brightwater before that.", true)]
    [InlineData("The boiler service at Kirkstall is booked for Tuesday.", false)]
    [InlineData("The audit fieldwork will be at the Kirkstall office.", false)]
    public void At_names_an_organisation_only_where_someone_belongs(string sentence, bool organisation) =>
        Assert.Equal(organisation, SentenceAnalyzer.Analyze(sentence).Mentions.Any(m => m.Type == EntityType.Organization && m.Text.StartsWith("Brightwater", StringComparison.Ordinal)
            || m.Type == EntityType.Organization && m.Text.StartsWith("Kirkstall", StringComparison.Ordinal)));

    [Fact]
    public void A_bold_name_leading_a_comment_is_its_author_not_a_defined_term()
    {
        Assert.DoesNotContain(SentenceAnalyzer.Analyze("**Nadia Rahman** - 14 Mar 09:10 Reproduced on staging, fix is in review.").Definitions, d => d.Term == "Nadia Rahman");
        Assert.Contains(SentenceAnalyzer.Analyze("**Lodestar**: the rewrite of the route solver.").Definitions, d => d.Term == "Lodestar");
    }

    [Fact]
    public async Task A_name_in_parentheses_after_a_name_is_an_apposition_not_an_owner()
    {
        var text = "Sites:\n\n**Kirkstall** (Bradford)\n\nMonthly fire alarm test (Ingrid)\n";
        var extraction = await DocumentExtractor.ExtractAsync(new DocumentInput(Guid.NewGuid(), text));
        Assert.DoesNotContain(extraction.Mentions, m => m.Type == EntityType.Person && m.Text == "Bradford");
        Assert.Contains(extraction.Mentions, m => m.Type == EntityType.Person && m.Text == "Ingrid");
    }
}
