using Microsoft.Extensions.DependencyInjection;
using SecondBrain.Core.Conversations;
using SecondBrain.Core.Feedback;

namespace Microsoft.Extensions.Hosting;

public static class SecondBrainConversationsExtensions
{
    /// <summary>Conversations (stored, private to their user, follow-ups rewritten), feedback on answers and gaps, the usage report. Api only.</summary>
    public static TBuilder AddSecondBrainConversations<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddSingleton<QuestionRewriter>();
        services.AddScoped<ConversationService>();
        services.AddScoped<FeedbackService>();
        services.AddScoped<UsageReport>();
        return builder;
    }
}
