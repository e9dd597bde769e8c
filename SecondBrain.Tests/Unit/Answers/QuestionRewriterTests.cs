using SecondBrain.Core.Conversations;

namespace SecondBrain.Tests.Unit.Answers;

/// <summary>The deterministic follow-up rewrite: what a conversation means without a language model.</summary>
public sealed class QuestionRewriterTests
{
    private static List<Turn> History(string question, string answer) =>
        [new Turn(MessageRoles.User, question, question), new Turn(MessageRoles.Assistant, answer)];

    [Fact]
    public void What_about_puts_the_new_thing_in_place_of_the_phrase_it_replaces()
    {
        var history = History("What is the new price of the starter plan per seat?", "The starter plan now costs 12 euros per seat [1].");
        Assert.Equal("What is the new price of the enterprise plan per seat?",
            QuestionRewriter.Deterministic(history, "what about the enterprise plan?"));
    }

    [Fact]
    public void A_pronoun_takes_the_previous_subject_and_the_answers_names_come_along()
    {
        var history = History("Which database holds the orders?", "We moved the orders service from MongoDB to PostgreSQL because we need transactions [1].");
        var rewritten = QuestionRewriter.Deterministic(history, "And who decided that?");
        Assert.StartsWith("who decided database holds the orders", rewritten);
        Assert.Contains("PostgreSQL", rewritten);
        Assert.Contains("MongoDB", rewritten);
    }

    [Fact]
    public void A_question_that_stands_on_its_own_is_kept()
    {
        var history = History("Which database holds the orders?", "PostgreSQL [1].");
        Assert.Equal("How long do refunds take to reach the card?", QuestionRewriter.Deterministic(history, "How long do refunds take to reach the card?"));
        Assert.Equal("Who owns billing?", QuestionRewriter.Deterministic([], "Who owns billing?"));
    }

    [Fact]
    public void A_bare_follow_up_carries_the_previous_subject()
    {
        var history = History("When is the Atlas launch?", "The launch is on 17 March [1].");
        var rewritten = QuestionRewriter.Deterministic(history, "and why?");
        Assert.Contains("Atlas launch", rewritten);
        Assert.StartsWith("why", rewritten);
    }
}
