// The warm-up corpus (corpus.h). Templates use spintax groups {a|b|c} and the variables listed in
// corpus.h; each reads as a short note between colleagues or business contacts.
#include "kiln/warmup/corpus.h"

#include <array>

namespace kiln::warmup::corpus {
namespace {

constexpr std::array kSubjectTable = std::to_array<std::string_view>({
    "{Quick question|Short question|One question} about {{ topic }}",
    "{Catching up|Checking in} on {{ topic }}",
    "{{ topic | capitalize }}: {next steps|where we are|a quick update}",
    "{Notes|Thoughts|A few notes} from {today|this morning|yesterday}",
    "{Plans|Plan} for {{ weekday }}",
    "{Following up|Follow-up} on {{ topic }}",
    "{Regarding|About} {{ thing }}",
    "{Coffee|Lunch|A quick call} {on|this} {{ weekday }}?",
    "{Update|Small update} on {{ topic }}",
    "{{ thing | capitalize }} for {{ weekday }}",
    "{Can you take a look|Could you have a look} at {{ thing }}?",
    "{Thanks|Thank you} for {the call|your help|the notes|yesterday}",
    "{Question|Idea} about {{ place }}",
    "{Scheduling|Timing} for {{ topic }}",
    "{{ weekday }} {meeting|catch-up|sync}",
    "{Draft|First draft} of {{ thing }}",
    "{Heads up|FYI}: {{ topic }}",
    "{Checking|Confirming} {{ weekday }}",
    "{Good news|Some news} on {{ topic }}",
    "{Trip|Visit} to {{ place }}",
    "{Feedback|Comments} on {{ thing }}",
    "{Agenda|Topics} for {{ weekday }}",
    "{Hello from|Greetings from} {{ place }}",
    "{Reminder|Friendly reminder}: {{ topic }}",
    "{Looking ahead|Next week} - {{ topic }}",
    "{Are we still on|Still on} for {{ weekday }}?",
    "{Numbers|Figures} for {{ topic }}",
    "{Idea|Suggestion} for {{ thing }}",
    "{A quick thought|Quick thought} on {{ topic }}",
    "{Re-scheduling|Moving} our {{ weekday }} {call|meeting}",
    "{Summary|Recap} of {{ topic }}",
    "{Intro|Introduction} and {{ topic }}",
    "{{ place | capitalize }} {visit|plans}",
    "{Sharing|Forwarding} {{ thing }}",
    "{Happy|Hope you had a good} {{ weekday }}",
    "{Status|Progress} on {{ thing }}",
    "{Timeline|Dates} for {{ topic }}",
    "{Small|Minor} {change|correction} to {{ thing }}",
    "{Your|The} {input|opinion} on {{ topic }}",
    "{Wrapping up|Closing out} {{ topic }}",
});

constexpr std::array kGreetingTable = std::to_array<std::string_view>({
    "{Hi|Hello|Hey} {{ to_first | default: \"there\" }},",
    "{Good morning|Morning|Good afternoon} {{ to_first | default: \"there\" }},",
    "{Hi|Hello} {{ to_first | default: \"there\" }}, {I hope you are well|hope all is well|hope "
    "your week is going well}.",
    "{{ to_first | default: \"Hello\" }},",
    "Dear {{ to_first | default: \"colleague\" }},",
});

constexpr std::array kBodyTable = std::to_array<std::string_view>({
    "I {wanted to|thought I would} {check in|touch base} about {{ topic }}. {Do you have|Have you "
    "had} a few minutes {on|before} {{ weekday }} to {go over it|talk it through}?\n\n{No "
    "rush|There is no rush} - {whenever suits you|any time that works for you} is fine.",
    "{Just a quick note|A quick note}: I {finished|wrapped up} {{ thing }} {this morning|earlier "
    "today|yesterday}. {Let me know if anything looks off|Tell me if you would change anything}.",
    "{I have been thinking about|I was going over} {{ topic }} and I think we {are nearly "
    "there|are in good shape|have most of what we need}. {Could we|Shall we} {compare notes|sync "
    "up} on {{ weekday }}?",
    "{Thanks again|Thank you again} for {your time|the chat} {last week|the other day}. {As "
    "promised|As mentioned}, I {put together|pulled together} {{ thing }}; {it is still rough|it "
    "is a first version}, but {it should|I hope it will} help with {{ topic }}.",
    "{I will be|I am going to be} at {{ place }} on {{ weekday }}. {If you are around|If you "
    "happen to be nearby}, {it would be great to|we could} {grab a coffee|meet up} and {talk "
    "about|go over} {{ topic }}.",
    "{Would you|Could you} {take a look at|have a look at|review} {{ thing }} {when you get a "
    "chance|when you have a moment}? {I would|I'd} {like|love} a second pair of eyes before {{ "
    "weekday }}.",
    "{Quick update|A short update} on {{ topic }}: {things are moving|we are on track|progress is "
    "steady}, and {the team|everyone} {seems happy|is on board} with the plan.\n\n{I will|I'll} "
    "{send|share} {{ thing }} {by|before} {{ weekday }}.",
    "{Do you|Would you} {still|by any chance} have {{ thing }} from {last month|the last "
    "meeting|our last call}? {I|We} {need|would like} to {refer back to|check} {a few details|one "
    "or two points} for {{ topic }}.",
    "{I am|I'm} {planning|putting together} the {agenda|notes} for {{ weekday }}. {Is there "
    "anything|Anything} you {would like|want} {to add|me to include}, {especially|in particular} "
    "around {{ topic }}?",
    "{Hope|I hope} {your week|the week} {is going well|has been good so far}. {I wanted to|Just "
    "wanted to} {let you know|say} that {{ thing }} is {ready|done|finished} and {waiting "
    "for|ready for} your {comments|thoughts}.",
    "{We|I} {had|got} {good|encouraging|positive} {feedback|news} on {{ topic }} {today|this "
    "week}. {I thought you would like to know|Thought you'd want to hear}.\n\n{More on {{ weekday "
    "}}|I'll share the details on {{ weekday }}}.",
    "{Could we|Can we} {move|push} our {{ weekday }} {call|meeting|chat} {by half an hour|to the "
    "afternoon|a little later}? {Something came up|A client call came up} {in the morning|at the "
    "same time}.",
    "{I|We} {are|were} {looking at|reviewing} {{ topic }} {again|once more} and {had|came up with} "
    "{a small idea|a suggestion}: {what if we|maybe we could} {start a week earlier|split it into "
    "two parts|keep it simpler}?\n\n{Curious what you think|Let me know what you think}.",
    "{Just back from|Back from} {{ place }}. {It was a good trip|The visit went well|Useful couple "
    "of days}, and {I have|I've got} {a few notes|some ideas} for {{ topic }}. {Free|Do you have "
    "time} on {{ weekday }}?",
    "{Sorry for|Apologies for} the {slow|late} {reply|answer}, {it has been|it's been} a "
    "{busy|hectic|full} week. {On|About} {{ topic }}: {I agree with|I'm fine with|I like} {your "
    "proposal|the plan|what you suggested}.",
    "{Attaching|Sharing} {my notes|a few thoughts} on {{ thing }} {below|here}:\n\n- {the "
    "timing|the schedule} {looks fine|works for us}\n- {the budget|the scope} {may need|could use} "
    "{another look|a second look}\n- {{ weekday }} {works|is good} for {the review|a follow-up}",
    "{I was|I've been} {asked|wondering} {whether|if} {{ topic }} {is still|remains} {on the "
    "list|a priority} for {this quarter|next month|the spring}. {Do you know|Any idea} {who owns "
    "it now|where it stands}?",
    "{Thanks|Thank you} for {sending|sharing} {{ thing }}. {It reads well|It looks great|Very "
    "clear}. {I have|I've got} {one or two|a couple of} {small|minor} {questions|comments}, "
    "{nothing urgent|but nothing that can't wait}.",
    "{A colleague|Someone on my team} {mentioned|suggested} {you|that you} {might|would} know {a "
    "bit|more} about {{ topic }}. {Would you be open to|Could we do} a {short|quick} {call|chat} "
    "{on|sometime before} {{ weekday }}?",
    "{Just confirming|Confirming} {{ weekday }} at {ten|eleven|two|three}. {I'll|I will} "
    "{bring|have} {{ thing }} {with me|ready}.\n\n{See you then|Talk soon}.",
    "{The|Our} {team|group} {is|will be} {meeting|getting together} at {{ place }} {next month|in "
    "a few weeks}. {Would you like to|Care to} {join us|come along} for {the afternoon|a session "
    "on {{ topic }}}?",
    "{I|We} {finally|just} {finished|closed} {{ topic }}. {Thanks for|I appreciate} {your "
    "help|your patience|all the input} {along the way|on this}.\n\n{Next up|Up next}: {{ thing }}.",
    "{I noticed|I saw} {{ thing }} {has changed|was updated} {since|after} {our last call|last "
    "week}. {Is that|Was that} {on purpose|expected}? {Just making sure|Only checking} we are {on "
    "the same page|aligned}.",
    "{How did|How was} {{ weekday }}'s {meeting|presentation|session} {go|turn out}? {I "
    "heard|Someone told me} {it went well|there were good questions} about {{ topic }}.",
    "{Small favour|Quick favour}: {could you|would you mind if I} {forward|send} {{ thing }} to "
    "{the team|a colleague}? {It would help|It should help} {with|them with} {{ topic }}.",
    "{I'm|I am} {putting together|drafting} a {short|brief} {summary|overview} of {{ topic }} for "
    "{the team|management}. {Anything|Is there anything} {you think|you feel} {should|must} be {in "
    "it|included}?",
    "{It was|Great} {good|nice} {to meet you|talking to you|seeing you} at {{ place }}. {As "
    "discussed|Like I said}, {here is|I'm following up on} {{ topic }}.\n\n{Happy to|Glad to} "
    "{talk more|continue} {whenever|any time} {it suits you|you like}.",
    "{Can you|Could you} {remind me|tell me} {when|what day} {{ thing }} is due? {I have|I've got} "
    "{{ weekday }} {in my notes|written down} but {I'm not sure|I want to double-check}.",
    "{We are|We're} {thinking about|considering} {{ place }} for {the next|our next} "
    "{workshop|offsite|team day}. {Have you|Did you ever} {been there|work from there}? {Any "
    "tips|Any advice} {welcome|appreciated}.",
    "{All good|Everything is fine} {on my side|here}. {{ topic | capitalize }} {is moving along|is "
    "progressing} and {{ thing }} {should be|will be} {ready|done} {by|before} {{ weekday }}.",
    "{I|We} {ran|went} through {{ thing }} {with the team|together} {today|this afternoon}. {Two|A "
    "couple of} {points|items} {came up|were raised}: {timing|the order of things} and {who|which "
    "team} {leads|owns} {{ topic }}.",
    "{Thank you for|Thanks for} {the introduction|putting us in touch}. {I had|We had} a "
    "{good|helpful} {conversation|call} {yesterday|this morning} about {{ topic }}, and {we|I} "
    "{will|plan to} {meet again|follow up} {on|after} {{ weekday }}.",
    "{Quick check|Just checking}: {did|have} you {get|received} {{ thing }}? {I sent it|It went "
    "out} {yesterday|on Monday|earlier} {but|and} {wanted to make sure|want to be sure} it "
    "{arrived|reached you}.",
    "{I'd like to|I would like to} {set up|book} a {short|half-hour} {review|session} of {{ topic "
    "}} {next week|soon}. {{ weekday }} {morning|afternoon} {is best for me|would suit me}; {does "
    "that work|is that good} for you?",
    "{Lovely|Great} {to hear|news} {about|on} {{ topic }}! {Well done|Congratulations} {to you and "
    "the team|to everyone involved}.\n\n{Let's|We should} {celebrate|catch up} {properly|soon}, "
    "{maybe|perhaps} at {{ place }}.",
    "{Following|Further to} our {chat|call}, {here is|this is} {where things stand|the current "
    "state} {with|on} {{ topic }}: {mostly done|nearly finished}, {a few loose ends|one or two "
    "open questions} {left|remain}, {nothing blocking|nothing serious}.",
});

constexpr std::array kReplyTable = std::to_array<std::string_view>({
    "{Thanks|Thank you}, {got it|received}!",
    "{Sounds good|Perfect|Great}, {thanks|thank you}.",
    "{Works for me|That works for me}. {See you then|Talk then}.",
    "{Thanks for the update|Thanks for letting me know}. {All clear|Makes sense}.",
    "{Yes|Sure}, {{ weekday }} {is fine|works}.",
    "{Noted|Got it}, {thanks|thank you} {for this|for the note}.",
    "{Thanks|Thank you}! {I'll|I will} {take a look|have a look} {later today|tomorrow|this "
    "afternoon}.",
    "{Great|Good} {news|to hear}. {Thanks for sharing|Thanks for the heads up}.",
    "{Happy to|Glad to} {help|do it}. {I'll|I will} {get back to you|send it over} {by|before} {{ "
    "weekday }}.",
    "{Thanks|Thank you} for {this|the note}. {I agree|I think you are right} - {let's|we can} {go "
    "ahead|keep it as it is}.",
    "{Sure|Of course}, {no problem|no worries}. {Let me know|Tell me} if {you need|there is} "
    "anything else.",
    "{Thanks|Thank you}, {that helps|very helpful}. {One small question|Just one question}: "
    "{is|would} {{ weekday }} {still|also} {OK|fine} for the {follow-up|next step}?",
    "{Good|Nice} {to hear from you|to hear}. {I've|I have} {read|gone through} it and {it all "
    "looks fine|I have no objections}.\n\n{Speak soon|Talk soon}.",
    "{Thanks for the note|Thanks for writing}. {I'm|I am} {away|out} {until|till} {{ weekday }}, "
    "{but|and} {I'll|I will} {pick this up|look into it} {then|when I'm back}.",
    "{Makes sense|Understood}. {I'll|I will} {update|adjust} {{ thing }} {accordingly|to match} "
    "and {send|share} {a new version|it again} {shortly|soon}.",
    "{Thanks|Thank you} - {I hadn't|I had not} {seen|noticed} that. {Good catch|Well spotted}. "
    "{I'll|I will} {fix it|sort it out} {today|right away}.",
    "{Yes|Absolutely}, {let's|we should} do that. {I'll|I will} {send|put} {an invite|something in "
    "the calendar} for {{ weekday }}.",
    "{That's|That is} {a good idea|a great point}. {I'll|I will} {mention|bring} it {to|up with} "
    "the team {on|before} {{ weekday }} and {let you know|report back}.",
    "{Thank you for|Thanks for} {following up|the reminder}. {Everything is|It's all} {on track|in "
    "hand} {here|on my side}; {I'll|I will} {confirm|write} {once|when} {{ thing }} is "
    "{ready|done}.",
    "{Hi again|Hello again}. {I|We} {talked|spoke} {about|it over} {with the team|internally} and "
    "{we are|we're} {happy|fine} to {go ahead|proceed}. {Thanks for|I appreciate} {your "
    "patience|waiting}.",
    "{Thanks|Thank you} for {the details|explaining}. {That|This} {clears it up|answers my "
    "question}.\n\n{I'd|I would} {still|also} {like|love} to {hear|know} {how|what} {the "
    "others|the team} {think|feel} about {{ topic }}, {but|though} {there is no rush|no rush at "
    "all}.",
    "{Great|Lovely}, {thank you|thanks}! {I|We} {really|truly} {appreciate|value} {the quick "
    "reply|your help}.\n\n{Let's|We can} {keep|stay} in touch {about|on} {{ topic }} {over the "
    "next few weeks|as things move}.",
    "{I|We} {can|could} {do|make} {{ weekday }}, {but|although} {the morning|the afternoon} "
    "{is|would be} {better|easier} for me. {Does that suit|Is that OK for} you?",
    "{Apologies|Sorry} - {I|I've} {only|just} {now|today} {saw|seen} this. {Yes|Sure}, {please|go "
    "ahead and} {send|share} {{ thing }} {when|whenever} {it's|it is} ready.",
    "{Thanks|Thank you} for {thinking of me|including me}. {I'd|I would} {be glad|love} to "
    "{join|come}, {if|as long as} {the date|the timing} {works|fits}.",
    "{Confirmed|All confirmed}. {Thanks|Thank you} {again|once more}.",
    "{Quick answer|Short answer}: {yes|yes, that's fine}. {Longer answer|More} {on|by} {{ weekday "
    "}}.",
    "{Thanks|Thank you}, {I|I've} {forwarded|passed} it {to|on to} {the team|my colleague}. "
    "{They|Someone} {will|should} {be in touch|get back to you} {soon|shortly}.",
    "{Much appreciated|Many thanks}. {I'll|I will} {read|go through} {{ thing }} "
    "{properly|carefully} {over the weekend|this week} and {come back to you|send comments}.",
    "{Good point|Fair point}. {Let's|We can} {discuss|cover} it {on|during} {{ weekday }}'s "
    "{call|meeting}.",
});

constexpr std::array kSignOffTable = std::to_array<std::string_view>({
    "{Best|Best regards|Kind regards|Regards|All the best|Thanks|Many thanks|Cheers|Speak "
    "soon|Talk soon}",
    "{Best|Thanks|Cheers|Warm regards|Have a good day|Have a great week}",
});

constexpr std::array kRefLabelTable = std::to_array<std::string_view>({
    "Ref:",
    "ref",
    "Ref.",
    "Our ref:",
    "Reference:",
    "Ref #",
    "Note ref",
});

constexpr std::array kTopicTable = std::to_array<std::string_view>({
    "the quarterly planning",
    "next week's offsite",
    "the onboarding checklist",
    "the vendor contract renewal",
    "the Q3 budget",
    "the customer survey results",
    "the new hiring plan",
    "the website refresh",
    "the partner programme",
    "the training schedule",
    "the annual report",
    "the product roadmap",
    "the office move",
    "the supplier review",
    "the support rota",
    "the trade show booth",
    "the pricing update",
    "the team workshop",
    "the client presentation",
    "the spring newsletter",
    "the invoice process",
    "the project kickoff",
    "the sales forecast",
    "the conference talk",
    "the internal wiki",
    "the travel policy",
    "the holiday schedule",
    "the case study",
    "the data migration",
    "the board update",
    "the new intern programme",
    "the security review",
    "the shipping delays",
    "the year-end review",
    "the marketing calendar",
    "the expense reports",
});

constexpr std::array kPlaceTable = std::to_array<std::string_view>({
    "the Lisbon office",
    "the Berlin office",
    "the London office",
    "the Madrid office",
    "the conference centre",
    "the Amsterdam office",
    "the Dublin office",
    "the Paris office",
    "head office",
    "the new co-working space",
    "the Milan office",
    "the warehouse",
    "the Vienna office",
    "the Prague office",
    "the Copenhagen office",
    "the Barcelona office",
});

constexpr std::array kThingTable = std::to_array<std::string_view>({
    "the slide deck",      "the draft proposal",   "the meeting notes",  "the project plan",
    "the spreadsheet",     "the summary document", "the timeline",       "the checklist",
    "the budget sheet",    "the agenda",           "the contract draft", "the report",
    "the brief",           "the schedule",         "the product sheet",  "the quote",
    "the updated figures", "the workshop outline", "the FAQ draft",      "the status report",
});

constexpr std::array kWeekdayTable = std::to_array<std::string_view>({
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
});

}  // namespace

const std::span<const std::string_view> kSubjects{kSubjectTable};
const std::span<const std::string_view> kGreetings{kGreetingTable};
const std::span<const std::string_view> kBodies{kBodyTable};
const std::span<const std::string_view> kReplies{kReplyTable};
const std::span<const std::string_view> kSignOffs{kSignOffTable};
const std::span<const std::string_view> kRefLabels{kRefLabelTable};
const std::span<const std::string_view> kTopics{kTopicTable};
const std::span<const std::string_view> kPlaces{kPlaceTable};
const std::span<const std::string_view> kThings{kThingTable};
const std::span<const std::string_view> kWeekdays{kWeekdayTable};

}  // namespace kiln::warmup::corpus
