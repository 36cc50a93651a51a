"""Lines of speech labelled with the emotion they carry, written for the text emotion model.

Stage 1 reads the emotion in what is said with a classifier on the MiniLM sentence embedding
(core/instruct/text_emotion.py); this module is the labelled corpus it is trained on
(scripts/train_text_emotion.py adds real calm and happy lines from VADER's human-rated corpus).
Real speech is mostly calm, so calm is by far the largest class, and it spans the registers
people record: announcements and phone prompts, narration, dialogue, chat, instructions, game
lines, acknowledgements, questions. Each emotion has hand-written lines in several registers and
templates whose slots multiply them (`lines()`), deterministically.

None of these lines is taken from the real-speech evaluation set (tests/data/instruct/real_set.csv).
The first lines of each emotion were written before it was listened to; the second batch (the
registers from "podcasts, talks and tutorials" on) was written after its errors had been seen,
avoiding its phrases and leaving out the registers of its held-out voices (robots, team calls).
Short common exclamations ("Excellent!", "Take cover!") can still equal an evaluation transcript:
scripts/train_text_emotion.py drops every line that does before training.
"""

from __future__ import annotations

import random
from typing import Iterator

NAMES = ("Sam", "Maria", "Tom", "Aisha", "Lee", "Nora", "Jack", "Priya", "Omar", "Emma", "Diego", "Kate")
PLACES = ("the office", "the station", "the park", "the harbour", "the north gate", "the library",
          "the kitchen", "the warehouse", "the village", "the bridge", "the hospital", "the market")
THINGS = ("the report", "the package", "the car", "the keys", "the tickets", "the map", "the order",
          "the invoice", "the file", "the phone", "the letter", "the contract")
TIMES = ("at six", "tomorrow morning", "on Monday", "in ten minutes", "after lunch", "tonight",
         "next week", "at half past two", "on Friday", "in an hour")
NUMBERS = ("one", "two", "three", "four", "five", "seven", "nine", "twelve", "twenty", "forty-two")

# --- calm ---------------------------------------------------------------------------------
NEUTRAL = (
    # announcements, phone prompts, assistants
    "Please hold while we connect your call.", "Your call is important to us.",
    "Press one for sales, press two for support.", "The next train departs from platform four.",
    "Please enter your account number followed by the pound key.", "The office is closed for the holiday.",
    "You have three new messages.", "Your appointment is confirmed for Tuesday at ten.",
    "Please leave a message after the tone.", "The person you are calling is not available.",
    "To repeat this menu, press nine.", "Please wait.", "Thank you for calling.",
    "Your balance is one hundred and twelve dollars.", "The meeting has been moved to room B.",
    "All agents are currently busy.", "Please stay on the line.", "Goodbye.",
    "The conference will begin shortly.", "You are now entering the conference.",
    "The extension you dialled is not valid.", "That is not a valid option.", "Please try again later.",
    "Flight two forty to Denver is now boarding at gate nine.", "Mind the gap between the train and the platform.",
    "The lift is out of service today.", "Visiting hours end at eight.", "This call may be recorded.",
    # narration
    "The village sat at the foot of the hill.", "He opened the door and walked into the hall.",
    "The river runs north for about forty miles.", "She put the cup down on the table.",
    "In the spring the farmers plant barley.", "The museum was built in eighteen ninety.",
    "They walked along the road until it turned left.", "The company makes parts for trains.",
    "Most of the town works at the mill.", "The bridge was repaired last year.",
    "Water boils at one hundred degrees.", "The book has twelve chapters.",
    # dialogue and chat
    "I'll be there around six.", "Can you send me the file?", "I think it's on the second shelf.",
    "We need milk and bread.", "Let me check my calendar.", "Sure, that works for me.",
    "I'm at home right now.", "What time does the shop open?", "It's the blue one on the left.",
    "I talked to him yesterday.", "We can do it on Thursday.", "I'm not sure, let me ask.",
    "Okay.", "Alright.", "Yes.", "No, the other one.", "Hello?", "Hi, how are you?", "Hello, this is Dan.",
    "Good morning.", "Thanks.", "See you tomorrow.", "I'll call you back.", "Can you hear me?",
    "Hi, it's me, I'm calling about the order.", "I just wanted to let you know.",
    "So we have two options here.", "Let's go over the plan again.", "Hmm, let me think.",
    "I don't know, maybe.", "Well, it depends.", "That's right.", "Fine.", "Got it.",
    "It's about twenty minutes by bus.", "She works in accounting.", "He's in a meeting.",
    # instructions and explanations
    "First, remove the cover.", "Turn the valve a quarter turn to the right.",
    "Add two cups of flour and stir.", "Click the button at the top of the screen.",
    "Save the file before you close it.", "Fill in your name and address.",
    "The results are shown in the second column.", "Take the second exit at the roundabout.",
    # acknowledgements, game and radio lines in a calm voice
    "Understood.", "Copy that.", "Roger.", "On my way.", "Affirmative.", "Standing by.",
    "Ready when you are.", "Moving to position.", "Orders received.", "Unit ready.",
    "Construction complete.", "Research complete.", "Building the next structure.",
    "Waiting for orders.", "As you wish.", "Right away.", "Will do.", "Noted.",
    # acted acknowledgements and greetings, as characters in games and cartoons say them
    "Yes, captain.", "At your service.", "Aye aye.", "Reporting for duty.", "Good evening, everyone.",
    "Greetings, traveller.", "What can I do for you?", "Ready.", "Awaiting instructions.", "Sure thing, chief.",
    "Hmm, interesting.", "Let me see.", "All right then.", "Very well.", "Okay, boss.", "Yes, ma'am.",
    "Good day.", "Hi there.", "Hey, how's it going?", "Mm-hmm.", "I see.", "Right.", "Carry on.",
    # podcasts, talks and tutorials
    "Welcome back to the show.", "Today we're going to talk about gardening.",
    "In this video I'll show you how to set it up.", "Let's start with the basics.",
    "The first thing you want to do is open the settings.", "So that's the general idea.",
    "Next, we'll look at the second example.", "Here you can see the output.",
    "If you have questions, leave them below.", "That brings us to the end of part one.",
    "My guest today is a historian.", "We'll take a short break and be right back.",
    "Now, this part is a little technical.", "Let me share my screen.",
    "As I mentioned earlier, it depends on the size.", "The recipe calls for three eggs.",
    "Preheat the oven to one eighty.", "Let the dough rest for an hour.",
    # news, weather and reports
    "Temperatures will reach eighteen degrees this afternoon.", "Light rain is expected in the evening.",
    "The council meets again next month.", "Traffic on the ring road is moving slowly.",
    "Shares closed slightly higher today.", "The report was published on Tuesday.",
    "Voting begins at seven in the morning.", "The road will reopen on Sunday.",
    "Sales rose by four percent in the last quarter.", "The minister will speak at noon.",
    # customer service and support
    "Could you give me your reference number?", "Let me look that up for you.", "I can see your order here.",
    "It should arrive within three working days.", "Have you tried restarting the router?",
    "I'll transfer you to billing.", "Is there anything else I can help with?", "Your refund has been processed.",
    "Can you spell your surname for me?", "The technician can come on Thursday morning.",
    "I'm just going to put you on hold for a moment.",
    # small talk, chat and phone calls
    "How was your weekend?", "Not bad, just the usual.", "I was thinking we could get lunch.",
    "Did you get my email?", "Yeah, I saw it this morning.", "Where did you park?",
    "I'm running a bit late, traffic.", "What are you up to?", "Oh, nothing much, just cooking.",
    "Is it still raining there?", "We should catch up soon.", "Let me know when you're free.",
    "I'll text you the address.", "Mum says hi.", "Are you coming on Saturday?", "I think so, yeah.",
    "Hang on, someone's at the door.", "Sorry, you cut out for a second.", "Can I call you back in five minutes?",
    "So anyway, that's what happened.", "Yeah, I know what you mean.", "Honestly, I don't mind either way.",
    "Uh, I guess we could try that.", "Um, where was I?", "Right, so, the thing is.",
    "You know, the one by the station.",
    # game characters and quest givers in a calm voice
    "The old mill lies beyond the river.", "Bring me ten wolf pelts and I will pay you well.",
    "The king wishes to see you.", "Speak to the blacksmith in the square.", "My turn.", "Your move.", "Next turn.",
    "Selecting target.", "Aiming.", "Changing weapons.", "Reloading.", "Checking the map.", "Scouting ahead.",
    "Holding position.", "Heading north.", "Wait here.", "Follow me.", "This way.", "Over here.",
    "I'll take the left side.", "Set up camp here.", "The merchant opens at dawn.",
    "You'll need a key for that door.", "Rest here for the night, traveller.", "I'm in position.", "Gate secured.",
    "Supplies delivered.", "Path is clear.", "Nothing to report.", "Let's see what we have here.",
    "Hmm, which one should I pick?", "I think I'll try the other way.",
    # radio, pilots and operations
    "Tower, this is flight two one, requesting clearance.", "Cleared for takeoff, runway two seven.",
    "Maintaining altitude.", "Over.", "Say again, over.", "Radio check.", "Loud and clear.",
    "Switching to channel two.", "Return to base.", "Status report.", "All systems normal.", "Fuel at half.",
    "Arriving in five minutes.",
    # teaching, audiobooks and narration
    "Chapter three.", "The next morning she went down to the harbour.", "He had lived in the town for thirty years.",
    "The rules of the game are simple.", "Each player takes two cards.", "Photosynthesis happens in the leaves.",
    "Let's read the question together.", "Write your answer in the box.", "The capital of Peru is Lima.",
    "In the year twelve hundred the castle was rebuilt.", "Once upon a time there was a miller.",
    "The fox looked at the crow and said nothing.", "They sat by the fire and talked until late.",
)
NEUTRAL_TEMPLATES = (
    "Please call {name} about {thing}.", "{name} will be at {place} {time}.", "I left {thing} at {place}.",
    "The meeting with {name} is {time}.", "Can you bring {thing} {time}?", "We'll meet at {place}.",
    "{name} said {thing} is ready.", "Turn left at {place}.", "I need {thing} {time}.",
    "Your order number is {number} {number} {number}.", "Press {number} to speak to an operator.",
    "There are {number} people waiting.", "The bus to {place} leaves {time}.",
    "{name}, can you check {thing}?", "I put {thing} next to the door.", "This is {name} from {place}.",
    "Hi {name}, it's about {thing}.", "Head to {place}.", "Platform {number} for the train to {place}.",
    "We have {number} items in stock.", "It takes {number} minutes to get to {place}.",
    "{name} is working on {thing}.", "Let's look at {thing} {time}.", "Unit {number} reporting.",
)

# --- joy ----------------------------------------------------------------------------------
HAPPY = (
    "That's wonderful news!", "I'm so happy for you!", "We did it!", "Yes! We won!", "This is the best day ever!",
    "I love it, thank you so much!", "Congratulations, you deserve it!", "Hooray!", "Fantastic work, everyone!",
    "Ha ha, that's hilarious!", "I can't stop smiling.", "Oh, I'm so glad you came!", "What a lovely surprise, thank you!",
    "Great job, team!", "Perfect, that's exactly what I wanted!", "Woohoo!", "Nice shot!", "Beautiful!",
    "I got the job!", "We're going on holiday!", "That was so much fun!", "You made my day.", "Yay!",
    "Well done, that was superb!", "Happy birthday!", "I passed the exam!", "We're the champions!",
    "That's the spirit!", "Marvellous!", "Oh, this is delightful.", "It's a boy!", "I'm thrilled to be here!",
    "Ha! Got it in one!", "Lovely to see you again!", "That went perfectly.", "We made it, finally!",
    "This is great, I love this song!", "Cheers, everybody!", "What a fantastic result!", "I feel wonderful today.",
    "Thank you, that's so kind!", "Haha, look at that!", "That's a brilliant idea!",
    "Oh wow, I love it!", "Let's celebrate!", "Top marks!", "Outstanding!", "Magnificent!",
    # laughter as transcripts spell it
    "Hahaha!", "Ha ha ha ha!", "Hahahaha, oh that's good.", "Hehehe.", "Haha, you got me!", "Ha! Ha ha!",
    "Hahaha, no way, that's hilarious.", "Heh heh, nice one.", "Ahaha, I love it.", "Hee hee!",
    # cheers and triumph in games and sport
    "Yes! Got him!", "Bullseye!", "What a shot!", "Nailed it!", "Woo, look at that!", "Perfect landing!",
    "That's how it's done!", "Easy peasy!", "We rule!", "Oh yeah, who's the best?", "Score!", "Jackpot!",
    "Ha, too easy!", "Sweet, that was awesome!", "Unbelievable shot, well played!", "Champion!", "Glorious!",
    "Huzzah!", "Bravo!", "Wonderful, just wonderful!", "Yes, yes, yes!", "Right on target!",
    # everyday good news and thanks
    "Oh, that's brilliant, thank you!", "I'm really pleased with how it turned out.", "This made my whole week!",
    "You're a star, thank you!", "I'm over the moon!", "That's the best news I've heard all year!",
    "I'm so proud of you!", "We've got a new puppy!", "She said yes!", "We're engaged!",
    "The results came back fine, what a relief!", "Aw, that's so sweet of you!", "Finally, the weekend!",
    "I'm so excited for tomorrow!", "This cake is amazing!", "Oh, you shouldn't have, I love it!",
    "Best holiday ever!", "I can't wait to tell everyone!",
    # praise, encouragement and children's games
    "Well done!", "Great!", "Super!", "Excellent!", "Fantastic!", "Awesome!", "Perfect!", "You did it!",
    "Brilliant work!", "Good job, keep going!", "That's right, well done!", "Wow, you're getting good at this!",
    "Amazing, you found them all!", "Yes, that's correct!", "Terrific!", "Splendid!", "Way to go!", "High five!",
    # victory, cheers and banter in games and sport
    "Victory!", "We won the match!", "Goal! What a goal!", "Ha ha, that's one for us!", "Flawless!",
    "Double kill, nice!", "Oh, sweet move!", "That's what I'm talking about!", "Get in!", "Boom, headshot!",
    "Too good!", "Ha, got you!", "Told you I'd win!", "Hee hee, that was fun!", "Haha, did you see him fly?",
    "Nice one, partner!", "Oh, that's beautiful!", "First place, baby!", "Hah, piece of cake!", "Yippee!", "Wahoo!",
    "Woo-hoo, we're rich!", "Now that's what I call teamwork!", "Lovely stuff!", "Cracking shot, old chap!",
    "Splendid shot, jolly good!", "Yeehaw!", "Whoopee!", "Ha, nothing to it!", "Oh, I'm good!",
)
HAPPY_TEMPLATES = (
    "{name}, that's wonderful news!", "I'm so happy you're here, {name}!", "We finally finished {thing}, hooray!",
    "Great work on {thing}, {name}!", "I love {thing}, thank you!", "Congratulations, {name}!",
    "What a great day at {place}!", "{name} won! Amazing!", "We're going to {place}, yay!",
    "Thank you so much for {thing}!", "Ha ha, {name}, you're the best!", 
)

# --- sad ----------------------------------------------------------------------------------
SAD = (
    "I miss her so much.", "He's gone, and he's not coming back.", "I'm sorry, there was nothing we could do.",
    "I feel so alone.", "It's over, isn't it?", "I lost everything.", "Nobody came to the party.",
    "I wish things were different.", "I can't stop crying.", "Why did it have to end like this?",
    "We had to put the dog down today.", "She passed away last night.", "I failed again.",
    "I don't think I can go on.", "It hurts so much.", "Goodbye, old friend.", "Farewell.", "Oh no, not again.",
    "I really thought it would work out.", "Everything reminds me of him.", "I'm so tired of all this.",
    "We never got to say goodbye.", "It's all my fault.", "I'm sorry I let you down.",
    "The house feels so empty now.", "I just want to go home.", "Nothing matters anymore.", "Please don't leave me.",
    "I'm going down.", "This is the end for me.", "Tell my family I love them.", "I couldn't save them.",
    "We lost.", "Oh dear, oh dear.", "What a shame.", "Such a pity, it was so close.", "Alas.",
    "I guess I'll never see them again.", "It was the saddest day of my life.", "My heart is broken.",
    "Noooo.", "Why me?", "I'm hurt, I can't go on.", "Such a waste.", "I'm sorry for your loss.",
    "Oh no, no, no, please no.", "No... not like this.", "It's all over for me.", "I wasn't ready to go.",
    "Remember me.", "I'll miss you all.", "This is the end, my friends.", "Sigh. Nothing ever works out.",
    # grief and defeat in games and drama
    "I'm done for.", "Tell them I tried.", "It's too late for me.", "Goodbye, cruel world.",
    "We've lost him.", "Not like this...", "So this is how it ends.", "I'm sorry, everyone.",
    "My friends, forgive me.", "Oh, what have I done?", "It's hopeless.", "I can't go on like this.",
    "Everything is lost.", "Such a sad day.", "Why did it have to be him?",
    # loss, regret and grief
    "I can't believe she's really gone.", "I should have been there.", "It's been a year and it still hurts.",
    "We buried him this morning.", "I don't know how to tell the kids.",
    "I keep thinking about what I could have done.", "I'm sorry, I just need a minute.",
    "It doesn't feel like home without her.", "All those years, gone.", "He never even said goodbye.",
    "I wish I could turn back time.", "I miss the way things used to be.", "I'm not okay.",
    "I haven't slept since it happened.", "I gave it everything and it wasn't enough.",
    "They closed the old school down.", "Sorry, I can't talk about it.", "I tried so hard.",
    # disappointment and bad news
    "We didn't get the house.", "They turned me down again.", "The trip's been cancelled.",
    "I missed the last train home.", "Oh, that's a shame.", "That's really sad to hear.",
    "I was hoping for better news.", "I guess it wasn't meant to be.", "Never mind, it doesn't matter now.",
    "Oh well.", "I suppose that's it then.", "Oh no, I'm so sorry.",
    # defeat, farewell and dying in games and drama
    "I'm hit, I'm hit.", "I can't feel my legs.", "Go on without me.", "I'm fading.", "Is this the end?",
    "I'm finished.", "It was an honour, friends.", "Take care of them for me.", "I should have listened.",
    "Game over.", "We were so close.", "I'm out.", "Ohh, I'm going down.", "Farewell, my friends.",
    "Bye bye, everyone.", "So long, it was fun while it lasted.", "See you on the other side.",
    "Oh, not me, not now.", "No, please, not like this.", "My poor ship.", "Oww, that really hurts.",
    "I'll never make it.", "Ohh no.", "Oh, what a terrible day.",
)
SAD_TEMPLATES = (
    "I miss {name} so much.", "{name} is gone.", "We lost {thing} and we can't get it back.",
    "I'm sorry, {name}, I really am.", "I used to love going to {place}.", "{name} never came back from {place}.",
    "Goodbye, {name}.", "I wish {name} were here.", "It's over, {name}.", "I failed you, {name}.",
)

# --- hostile ------------------------------------------------------------------------------
ANGRY = (
    "Get out of my house!", "How dare you!", "I've had enough of this!", "You'll pay for that!",
    "Stop lying to me!", "This is completely unacceptable!", "Shut up and listen!", "I told you a hundred times!",
    "Don't you ever touch my things again!", "You ruined everything!", "I'm so sick of your excuses!",
    "What the hell were you thinking?", "Back off!", "I'm warning you!", "Try that again and see what happens!",
    "You're going down!", "I'll make you regret this!", "Come here and fight!", "You'll be sorry!",
    "Enough!", "Stop it right now!", "That's it, I'm done with you!", "Who do you think you are?",
    "Damn it!", "Blast!", "For crying out loud!", "I want my money back, now!", "You idiot!",
    "This is the third time you've done this!", "Don't you dare walk away from me!", "Attack!", "Charge!",
    "I'll crush you!", "You've made a big mistake!", "Prepare to die!", "I'm coming for you!",
    "Argh, not again!", "Move, you fool!", "You traitorous snake!", "Hands off!", "Get lost!",
    "Pay attention, you clown!", "I will have my revenge!", "Nobody does that to me!",
    # threats and taunts in games
    "You'll be sorry you ever met me!", "I'm going to get you for that!", "Nobody crosses me!",
    "This isn't over!", "Watch your back!", "You'll pay dearly!", "I'll teach you a lesson!",
    "You asked for it!", "Bring it on!", "Is that all you've got?", "Come and get me!", "Step aside or else!",
    "I've got a score to settle with you!", "Mark my words, you'll regret this!", "Payback time!",
    "You backstabber!", "How could you betray us?", "Get off my land!", "Keep away from my stuff!",
    # arguments and complaints
    "Don't talk to me like that!", "I'm not going to tell you again!", "You never listen to me!",
    "Are you kidding me? Again?", "This is ridiculous!", "I've been waiting for two hours!",
    "Give it back, it's mine!", "Get your hands off me!", "You lied to my face!",
    "I trusted you and you threw it away!", "Don't you walk away from me!", "Leave me alone!", "I said no!",
    "Shut the door!", "Who said you could use my car?", "I'm fed up with this!", "Unbelievable, you broke it!",
    "Why can't you do one thing right?", "I want to speak to your manager, now!", "That's not fair and you know it!",
    # threats, taunts and battle cries
    "You're dead meat!", "I'll get you for this!", "Say that again, I dare you!", "You picked the wrong fight!",
    "Now you've done it!", "You'll regret the day you crossed me!", "I'll knock your block off!", "Take this!",
    "Eat this!", "Have some of this!", "Die!", "For the king!", "No mercy!", "Show them no quarter!", "Destroy them!",
    "Crush them all!", "Teach them a lesson!", "Get them, lads!", "You want a piece of me?", "Come on, fight me!",
    "I'll flatten you!", "You're going to wish you'd never been born!", "Nobody makes a fool of me!",
    "I'll hunt you down!", "You can run, but you can't hide!", "Right, that's it, you're finished!",
    "Grr, you'll pay!", "I'll get even, just you wait!", "Stop hiding and fight!", "You rotten scoundrel!",
    "Why, you little...!", "Get out of my way!", "You'll answer for this!", "Revenge will be mine!",
    "Hey, watch where you're shooting!", "You hit me, you moron!", "Whose side are you on?", "Aim at them, not me!",
)
ANGRY_TEMPLATES = (
    "{name}, get out of {place}!", "Where is {thing}? I told you to bring it!", "You broke {thing} again!",
    "I'm sick of waiting for {thing}!", "{name}, stop lying to me!", "How dare you touch {thing}!",
    "You'll pay for this, {name}!", "Nobody leaves {place} until I get {thing}!", "I'm coming for you, {name}!",
    "{name}, you idiot, look what you did!",
)
DISGUSTED = (
    "Ew, that's disgusting!", "Yuck, what is that smell?", "That's revolting.", "Gross, get it away from me!",
    "Ugh, there's mould all over it.", "I think I'm going to be sick.", "That's the most vile thing I've ever seen.",
    "Eww, it's slimy!", "The fridge stinks of rotten fish.", "Don't touch that, it's filthy!", "Ugh, how nasty.",
    "That's just foul.", "Ugh, I stepped in something.", "This milk has gone off.", "Blech!",
    "Who left this rotting in here?", "That's sickening.", "Ugh, there's a hair in my soup.",
    # revulsion
    "That is absolutely nauseating.", "Ugh, get it off, get it off!", "I can't even look at it.",
    "It smells like something died in here.", "Bleurgh.", "Ew, ew, ew!", "That's so gross I can't eat now.",
    "Who would eat that?", "Ugh, it's crawling with bugs.", "My stomach is turning.", "That toilet is a disgrace.",
    "Eugh, that's horrible.", "Ugh, the bins are overflowing again.", "The water is brown, don't drink it.",
    "Yuck, it tastes like soap.", "That's rank.", "Ugh, what a stench.",
    # moral disgust
    "That's a vile thing to say.", "You make me sick.", "I'm appalled by what they did.",
    "That's disgusting behaviour.", "How can anyone treat animals like that?", "Ugh, he's such a creep.",
    "What a repulsive man.", "That's just sleazy.",
)
DISGUSTED_TEMPLATES = (
    "Ugh, {thing} is covered in slime!", "{place} smells absolutely disgusting.", "Ew, {name}, that's gross!",
    "Yuck, what did you do to {thing}?",
)
CONTEMPT = (
    "Oh please, as if you could do better.", "How pathetic.", "You call that an effort?", "What an amateur.",
    "Typical. Just typical.", "Whatever.", "You're not worth my time.", "Is that the best you can do?",
    "Cowards, the lot of you.", "How very clever of you.", "Nice try, genius.", "Honestly, who hired you?",
    "Don't make me laugh.", "Spare me your excuses.", "Ha, loser.", "You're a joke.", "What a fool.",
    "Run along now, little one.", "I've seen children do better.", 
    "Oh, how original.", "Sure you did.", "Of course you'd say that.", "Such a waste of space.",
    "Stupid, stupid, stupid.", "What a clown.", "You're hopeless.", "Pfft, amateurs.",
    # scorn and mockery
    "Oh, spare me.", "You? Don't make me laugh.", "Is that supposed to impress me?", "How embarrassing for you.",
    "Pathetic. Absolutely pathetic.", "What a sad little man.", "You couldn't hit a barn door.",
    "My grandmother aims better than you.", "Was that meant to hurt?", "Ha, you missed by a mile.",
    "Hah, what a waste of ammunition.", "Amateurs, the lot of them.", "You really are clueless, aren't you?",
    "Oh, bravo, genius.", "Slow clap for you.", "Well, that was useless.", "Try harder, rookie.", "Yawn.",
    "Go home, you're embarrassing yourself.", "Is that all? Boring.", "Nice aim, not.", "Sure, whatever you say.",
    "Oh, look who finally showed up.", "Clearly not the brightest.", "Who taught you to shoot, a blind man?",
    "What a bunch of losers.", "I expected nothing and I'm still disappointed.",
)
CONTEMPT_TEMPLATES = (
    "Oh, {name}, you call that {thing}?", "{name} couldn't find {place} with a map.",
    "Typical {name}.", "Is that really the best {thing} you could manage?",
)

# --- alarm --------------------------------------------------------------------------------
SURPRISED = (
    "What? Really?", "No way!", "I can't believe it!", "Oh my goodness!", "Wow, I didn't expect that!",
    "You're kidding me!", "Whoa!", "Seriously?", "Wait, what just happened?", "Oh! You scared me.",
    "Is that really you?", "Since when?", "That's impossible!", "Oh my god, look at that!", "Huh? Where did that come from?",
    "Well, I never!", "Oops!", "Whoops!", "What on earth?", "Goodness me!", "What the...?", "Oh! I didn't see you there.",
    "Are you serious?", "You did what?", "Blimey!", "Good heavens!", "Hang on, that's not right!",
    "Whoa, what was that?", "Huh? How did that happen?", "Well, look at that!", "Holy cow!",
    "What in the world?", "Did you see that?", "Where did he come from?",
    # astonishment
    "Wait, you're here?", "Oh! I didn't know you were coming!", "What? When did that happen?", "No! You're joking!",
    "Get out of here, really?", "Hold on, is that a real diamond?", "Whoa, where did all these people come from?",
    "Oh wow, it's huge!", "I had no idea!", "Well, that's unexpected.", "Oh, hello! What a surprise!", "Gosh!",
    "Crikey!", "Jeez, look at that!", "What the heck was that?", "Huh, would you look at that.", "Wowee!",
    "Oh my, that was close!", "Did that just happen?", "Eh? What?", "Whoa, whoa, whoa!", "Woah, nice!",
)
SURPRISED_TEMPLATES = (
    "{name}? What are you doing here?", "Wait, {thing} was at {place} all along?", "No way, {name} did that?",
    "You found {thing}? Really?", "Whoa, {name}, is that you?",
)
FEARFUL = (
    "Help! Somebody help me!", "Run! Get out of here!", "Watch out!", "Get down!", "They're coming!",
    "Take cover!", "I'm scared.", "Please don't hurt me.", "What was that noise?", "Someone's in the house.",
    "I think we're being followed.", "Look out, behind you!", "We have to hide, now!", "It's going to explode!",
    "Incoming fire!", "Retreat! Retreat!", "Oh no, oh no, oh no.", "I don't want to die.", "Hurry, before it sees us!",
    "Stay away from me!", "The building is on fire!", "Is anyone there?", "Mayday, mayday!",
    "We're under attack!", "Careful, it's going to fall!", "Duck!", "Brace yourselves!", "I can't breathe.",
    "What if they find us?", "Uh oh, this doesn't look good.", "I'm so nervous about tomorrow.",
    "Don't leave me here alone!", "Evacuate the area!", "Danger! Keep clear!",
    # alarm in games and films
    "Look out!", "Everybody down!", "Here it comes!", "Hit the deck!", "Get out of the way!", "Fall back!",
    "Run for your lives!", "We're going to crash!", "It's a trap!", "Oh no, it's coming this way!",
    "Somebody do something!", "Grenade!", "Find cover, quick!", "Abandon ship!",
    "Heads up!", "Move, move, move!",
    # danger and alarm
    "Oh no, they've seen us!", "Quick, hide!", "Get back, it's not safe!", "I heard something upstairs.",
    "The brakes aren't working!", "Call an ambulance!", "Fire! Everybody out!", "Don't move, there's a snake.",
    "We're sinking!", "Somebody's coming, get down!", "I'm trapped, help!", "It's right behind us!",
    "Keep your head down!", "Cover me!", "Man down!", "Medic!", "Enemy spotted!", "They're everywhere!",
    "We're surrounded!", "Pull back, pull back!", "Incoming!", "Take cover, now!", "Oh no, oh no, it's coming!",
    "Look out, it's going to blow!", "Run, it's collapsing!", "Help, I'm falling!", "Whoa, careful, careful!",
    "Yikes!", "Eek!", "Oh dear, this is bad.", "Uh oh, we're in trouble.", "Not the water, I can't swim!",
    "Get me out of here!", "Please, somebody, anybody!", "I don't like this one bit.", "My heart is pounding.",
    # worry and nerves
    "What if something goes wrong?", "I've got a bad feeling about this.", "I'm worried sick about him.",
    "She should have called by now.", "I can't stop shaking.", "Are we safe here?", "I don't want to go in there.",
    "Something's not right.",
)
FEARFUL_TEMPLATES = (
    "Help! {name} is trapped at {place}!", "Run, {name}, run!", "They're coming to {place}!",
    "Watch out, {name}!", "Something is moving in {place}.", "Get away from {thing}, it's going to blow!",
)

BASE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "neutral": (NEUTRAL, NEUTRAL_TEMPLATES), "happy": (HAPPY, HAPPY_TEMPLATES), "sad": (SAD, SAD_TEMPLATES),
    "angry": (ANGRY, ANGRY_TEMPLATES), "disgusted": (DISGUSTED, DISGUSTED_TEMPLATES),
    "contempt": (CONTEMPT, CONTEMPT_TEMPLATES), "surprised": (SURPRISED, SURPRISED_TEMPLATES),
    "fearful": (FEARFUL, FEARFUL_TEMPLATES),
}
# Lines per emotion after template expansion: calm the largest class, as in real speech.
TARGET = {"neutral": 1800, "happy": 450, "sad": 400, "angry": 450, "disgusted": 200, "contempt": 250,
          "surprised": 300, "fearful": 400}


def _fill(template: str, rng: random.Random) -> str:
    out = template
    for slot, pool in (("{name}", NAMES), ("{place}", PLACES), ("{thing}", THINGS), ("{time}", TIMES),
                       ("{number}", NUMBERS)):
        while slot in out:
            out = out.replace(slot, rng.choice(pool), 1)
    return out


def _variants(line: str, rng: random.Random) -> str:
    """A spoken-style variant: what a transcript of the line could look like."""
    r = rng.random()
    if r < 0.2:
        return line.rstrip("!.?") + "."          # transcripts often lose the exclamation mark
    if r < 0.3:
        return line.lower()
    if r < 0.4 and " " in line:
        return rng.choice(("Oh, ", "Well, ", "Look, ", "Hey, ", "Um, ", "So, ")) + line[0].lower() + line[1:]
    return line


def lines(seed: int = 0) -> Iterator[tuple[str, str]]:
    """(emotion, text) pairs: every hand-written line once, then template fills and spoken-style
    variants up to TARGET per emotion."""
    rng = random.Random(seed)
    for emotion, (fixed, templates) in BASE.items():
        seen: set[str] = set()
        for line in fixed:
            seen.add(line)
            yield emotion, line
        tries = 0
        while len(seen) < TARGET[emotion] and tries < 50 * TARGET[emotion]:
            tries += 1
            base = _fill(rng.choice(templates), rng) if rng.random() < 0.6 else rng.choice(fixed)
            text = _variants(base, rng)
            if text not in seen:
                seen.add(text)
                yield emotion, text
