<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Background</name>
    <message>
        <source>{0} (waiting for the training run to end, so that its random numbers stay its own)</source>
        <translation>{0}（等待正在进行的训练结束，以免打乱它的随机数）</translation>
    </message>
</context>
<context>
    <name>Catalogue</name>
    <message>
        <source>The article&apos;s CNN: conv 32, conv 64 (3x3, ReLU, 2x2 max pool), fc 512, fc classes.</source>
        <translation>原文中的卷积神经网络：卷积 32、卷积 64（3x3，ReLU，2x2 最大池化），全连接 512，全连接输出各类别。</translation>
    </message>
    <message>
        <source>Fully connected network on the flattened input (images or tables).</source>
        <translation>在展平的输入（图像或表格）上的全连接网络。</translation>
    </message>
    <message>
        <source>LeCun&apos;s LeNet-5: conv 6 and conv 16 (5x5, 2x2 pooling), fc 120, fc 84, fc classes; small and quick, for digit-sized images.</source>
        <translation>LeCun 的 LeNet-5：卷积 6 与卷积 16（5x5，2x2 池化），全连接 120、84，再全连接输出各类别；小而快，适合数字大小的图像。</translation>
    </message>
    <message>
        <source>A plain CNN you size yourself: per entry of channels a 3x3 conv (+ batch norm), ReLU and 2x2 pooling; then global average pooling and a linear head. Any image size.</source>
        <translation>自己定尺寸的普通卷积神经网络：channels 的每一项是一个 3x3 卷积（+ 批归一化）、ReLU 和 2x2 池化；然后全局平均池化和一个线性输出头。任意图像尺寸。</translation>
    </message>
    <message>
        <source>A plain (Elman) recurrent network: reads images row by row (one step per row), spectrograms frame by frame and texts word by word, then a linear head.</source>
        <translation>普通（Elman）循环神经网络：图像逐行读取（每行一步），声谱图逐帧读取，文本逐词读取，然后接一个线性输出头。</translation>
    </message>
    <message>
        <source>An LSTM (long short-term memory) network: reads images row by row (one step per row), spectrograms frame by frame and texts word by word, then a linear head.</source>
        <translation>LSTM（长短期记忆）网络：图像逐行读取（每行一步），声谱图逐帧读取，文本逐词读取，然后接一个线性输出头。</translation>
    </message>
    <message>
        <source>A GRU (gated recurrent unit) network: reads images row by row (one step per row), spectrograms frame by frame and texts word by word, then a linear head.</source>
        <translation>GRU（门控循环单元）网络：图像逐行读取（每行一步），声谱图逐帧读取，文本逐词读取，然后接一个线性输出头。</translation>
    </message>
    <message>
        <source>A small transformer encoder: images cut into patches, texts as words; learned positions, mean pooling, a linear head.</source>
        <translation>小型 Transformer 编码器：图像切成小块，文本按词元；可学习的位置编码，平均池化，一个线性输出头。</translation>
    </message>
    <message>
        <source>M5 (Dai et al. 2017): a 1-D CNN on the raw waveform (set [data] features = &quot;waveform&quot;): a wide strided first convolution, then 3-sample convolutions with batch norm and 4x pooling, global average pooling, a linear head.</source>
        <translation>M5（Dai 等，2017）：作用于原始波形的一维卷积神经网络（设置 [data] features = &quot;waveform&quot;）：第一层是宽而大步长的卷积，之后是带批归一化的 3 点卷积和 4 倍池化，全局平均池化，一个线性输出头。</translation>
    </message>
    <message>
        <source>ResNet-18 (torchvision, 11.7 M parameters).</source>
        <translation>ResNet-18（torchvision，1170 万参数）。</translation>
    </message>
    <message>
        <source>ResNet-34 (torchvision, 21.8 M parameters).</source>
        <translation>ResNet-34（torchvision，2180 万参数）。</translation>
    </message>
    <message>
        <source>ResNet-50 (torchvision, 25.6 M parameters).</source>
        <translation>ResNet-50（torchvision，2560 万参数）。</translation>
    </message>
    <message>
        <source>MobileNetV3-Small (torchvision, 2.5 M parameters): fast, for small machines.</source>
        <translation>MobileNetV3-Small（torchvision，250 万参数）：速度快，适合配置不高的机器。</translation>
    </message>
    <message>
        <source>MobileNetV3-Large (torchvision, 5.5 M parameters).</source>
        <translation>MobileNetV3-Large（torchvision，550 万参数）。</translation>
    </message>
    <message>
        <source>EfficientNet-B0 (torchvision, 5.3 M parameters).</source>
        <translation>EfficientNet-B0（torchvision，530 万参数）。</translation>
    </message>
    <message>
        <source>ConvNeXt-Tiny (torchvision, 28.6 M parameters).</source>
        <translation>ConvNeXt-Tiny（torchvision，2860 万参数）。</translation>
    </message>
    <message>
        <source>Vision Transformer B/16 (torchvision, 86 M parameters); images are resized to 224x224.</source>
        <translation>Vision Transformer B/16（torchvision，8600 万参数）；图像缩放到 224x224。</translation>
    </message>
    <message>
        <source>A pretrained Hugging Face language model (BERT, MiniLM, RoBERTa, Qwen, ...) with a new classification head, fine-tuned on text_csv with its own tokenizer.</source>
        <translation>预训练的 Hugging Face 语言模型（BERT、MiniLM、RoBERTa、Qwen 等）加上新的分类头，用它自己的分词器在 text_csv 上微调。</translation>
    </message>
    <message>
        <source>A pretrained Hugging Face causal language model (Llama, Qwen, GPT-2, ...), instruction-tuned on the instructions dataset with its own tokenizer and chat template; Predict generates responses.</source>
        <translation>预训练的 Hugging Face 因果语言模型（Llama、Qwen、GPT-2 等），用它自己的分词器和对话模板在 instructions 数据集上做指令微调；“预测”页生成回答。</translation>
    </message>
    <message>
        <source>Handwritten digits (scikit-learn&apos;s set, bundled): 1,797 real 8x8 scans, resized to 28x28. Works offline.</source>
        <translation>手写数字（取自 scikit-learn，随软件附带）：1,797 张真实的 8x8 扫描图，放大到 28x28。无需联网。</translation>
    </message>
    <message>
        <source>MNIST: 70,000 handwritten digits, 28x28 grey (60,000 to train, the 10,000 test images to validate). Read from the data folder; downloaded when missing.</source>
        <translation>MNIST：70,000 个手写数字，28x28 灰度（60,000 个用于训练，10,000 个测试图像用作验证）。从数据文件夹读取；缺少时自动下载。</translation>
    </message>
    <message>
        <source>Fashion-MNIST: 70,000 28x28 grey photos of 10 kinds of clothing (60,000 to train, 10,000 to validate).</source>
        <translation>Fashion-MNIST：70,000 张 28x28 灰度照片，10 种服饰（60,000 张训练，10,000 张验证）。</translation>
    </message>
    <message>
        <source>Kuzushiji-MNIST: 70,000 28x28 grey handwritten Japanese characters, 10 classes (60,000 to train, 10,000 to validate).</source>
        <translation>Kuzushiji-MNIST：70,000 个 28x28 灰度手写日文字符，10 个类别（60,000 个训练，10,000 个验证）。</translation>
    </message>
    <message>
        <source>CIFAR-10: 60,000 32x32 colour photos of 10 classes (50,000 to train, 10,000 to validate).</source>
        <translation>CIFAR-10：60,000 张 32x32 彩色照片，10 个类别（50,000 张训练，10,000 张验证）。</translation>
    </message>
    <message>
        <source>CIFAR-100: 60,000 32x32 colour photos of 100 classes (50,000 to train, 10,000 to validate).</source>
        <translation>CIFAR-100：60,000 张 32x32 彩色照片，100 个类别（50,000 张训练，10,000 张验证）。</translation>
    </message>
    <message>
        <source>Your own images: a folder with one subfolder per class (its name is the class), any common format and size, resized to image_size.</source>
        <translation>你自己的图像：一个文件夹，每个类别一个子文件夹（子文件夹名即类别名），任意常见格式和尺寸，缩放到 image_size。</translation>
    </message>
    <message>
        <source>Iris flowers (scikit-learn&apos;s set, bundled): 150 rows of 4 measurements, 3 species. Classification; works offline.</source>
        <translation>鸢尾花（取自 scikit-learn，随软件附带）：150 行，每行 4 项测量，3 个品种。分类；无需联网。</translation>
    </message>
    <message>
        <source>Wines (scikit-learn&apos;s set, bundled): 178 rows of 13 chemical measurements, 3 cultivars. Classification; works offline.</source>
        <translation>葡萄酒（取自 scikit-learn，随软件附带）：178 行，每行 13 项化学测量，3 个品种。分类；无需联网。</translation>
    </message>
    <message>
        <source>Breast cancer biopsies (scikit-learn&apos;s set, bundled): 569 rows of 30 measurements, malignant or benign. Two-class classification; works offline.</source>
        <translation>乳腺癌活检（取自 scikit-learn，随软件附带）：569 行，每行 30 项测量，恶性或良性。二分类；无需联网。</translation>
    </message>
    <message>
        <source>Diabetes progression (scikit-learn&apos;s set, bundled): 442 patients, 10 measurements, a disease-progression number one year later. Regression (use loss mse or l1); works offline.</source>
        <translation>糖尿病进展（取自 scikit-learn，随软件附带）：442 名患者，10 项测量，一年后的病情进展数值。回归（损失函数用 mse 或 l1）；无需联网。</translation>
    </message>
    <message>
        <source>Your own table: a CSV file with a header row; pick the column to predict. Numbers are standardised, text columns become categories.</source>
        <translation>你自己的表格：带表头的 CSV 文件；选择要预测的列。数值会被标准化，文本列变为类别。</translation>
    </message>
    <message>
        <source>Your own texts: a CSV file with a text column and a label column (e.g. reviews and their sentiment). Pick rnn, lstm, gru or transformer as the model.</source>
        <translation>你自己的文本：含文本列和标签列的 CSV 文件（例如评论及其情感倾向）。模型请选 rnn、lstm、gru 或 transformer。</translation>
    </message>
    <message>
        <source>Your own instructions for a language model: a CSV or JSONL file of prompts and the responses to learn, or JSONL chats (a messages list of role and content). Pick hf_causal_lm as the model.</source>
        <translation>你自己的语言模型指令数据：一个含提示和待学回答的 CSV 或 JSONL 文件，或 JSONL 对话（messages 列表，每轮有 role 和 content）。模型请选 hf_causal_lm。</translation>
    </message>
    <message>
        <source>Your own recordings (WAV; FLAC/OGG with soundfile): one subfolder per class, or the class first in each file name (7_george_12.wav), resampled and cut to one duration.</source>
        <translation>你自己的录音（WAV；装有 soundfile 时也可用 FLAC/OGG）：每个类别一个子文件夹，或文件名的第一段是类别（7_george_12.wav），统一重采样并截成同一时长。</translation>
    </message>
    <message>
        <source>Free Spoken Digit Dataset: spoken digits 0-9, 8 kHz recordings named digit_speaker_index.wav (official split: index 0-4 validate). CC BY-SA 4.0; downloaded when missing.</source>
        <translation>Free Spoken Digit Dataset：0-9 的语音数字，8 kHz 录音，命名为 数字_说话人_序号.wav（官方划分：序号 0-4 作验证）。CC BY-SA 4.0；缺少时自动下载。</translation>
    </message>
    <message>
        <source>Gradient descent, with optional momentum and Nesterov momentum.</source>
        <translation>梯度下降，可选动量法和 Nesterov 动量。</translation>
    </message>
    <message>
        <source>Adam: adaptive steps from running gradient moments.</source>
        <translation>Adam：根据梯度矩的滑动估计自适应调整步长。</translation>
    </message>
    <message>
        <source>AdamW: Adam with weight decay applied directly to the weights.</source>
        <translation>AdamW：把权重衰减直接作用于权重的 Adam。</translation>
    </message>
    <message>
        <source>RMSprop: steps scaled by a running mean of squared gradients.</source>
        <translation>RMSprop：步长按梯度平方的滑动平均缩放。</translation>
    </message>
    <message>
        <source>Adagrad: per-weight steps that shrink as gradients add up.</source>
        <translation>Adagrad：每个权重各自的步长，随梯度累积而变小。</translation>
    </message>
    <message>
        <source>Constant learning rate.</source>
        <translation>恒定学习率。</translation>
    </message>
    <message>
        <source>Multiply the learning rate by gamma every step_epochs epochs.</source>
        <translation>每 step_epochs 轮把学习率乘以 gamma。</translation>
    </message>
    <message>
        <source>Cosine decay from the optimizer&apos;s rate to min_lr over the whole run, after an optional linear warmup.</source>
        <translation>在整个运行中从优化器的学习率余弦衰减到 min_lr，之前可选线性预热。</translation>
    </message>
    <message>
        <source>One cycle: the rate rises from lr / div_factor to the optimizer&apos;s lr, then anneals far below it by the end of the run (cosine both ways; momentum is left as set).</source>
        <translation>单周期：学习率从 lr / div_factor 升到优化器的 lr，到运行结束时再退火到远低于它（两段都是余弦；动量保持原设置）。</translation>
    </message>
    <message>
        <source>Multiply the rate by factor when the validation loss has not improved for patience epochs.</source>
        <translation>验证损失连续 patience 轮没有改善时，把学习率乘以 factor。</translation>
    </message>
    <message>
        <source>Cross entropy on class scores (logits): the loss for classification.</source>
        <translation>作用于类别分数（logits）的交叉熵：分类用的损失函数。</translation>
    </message>
    <message>
        <source>Binary cross entropy on one logit per sample: the loss for two-class problems (the model gets a single output, the second class&apos;s score).</source>
        <translation>作用于每个样本一个 logit 的二元交叉熵：二分类用的损失函数（模型只有一个输出，即第二个类别的分数）。</translation>
    </message>
    <message>
        <source>Mean squared error: the usual loss for regression (predicting numbers).</source>
        <translation>均方误差：回归（预测数值）常用的损失函数。</translation>
    </message>
    <message>
        <source>Mean absolute error: a regression loss less swayed by outliers than mse.</source>
        <translation>平均绝对误差：比 mse 更不易受离群值影响的回归损失函数。</translation>
    </message>
    <message>
        <source>Cross entropy of each next token of the responses (the prompt&apos;s tokens are not scored), averaged over those tokens: the loss for instruction tuning a language model.</source>
        <translation>回答中每个下一个词元的交叉熵（提示的词元不计分），按这些词元取平均：语言模型指令微调的损失。</translation>
    </message>
    <message>
        <source>Passes over the training data.</source>
        <translation>遍历训练数据的轮次。</translation>
    </message>
    <message>
        <source>Samples per optimisation step.</source>
        <translation>每个优化步使用的样本数。</translation>
    </message>
    <message>
        <source>auto picks a working GPU, else the CPU; or cpu, cuda, cuda:N, mps.</source>
        <translation>auto 选用可用的 GPU，否则用 CPU；也可填 cpu、cuda、cuda:N、mps。</translation>
    </message>
    <message>
        <source>Seeds data split, initial weights and shuffling.</source>
        <translation>决定数据划分、初始权重和打乱顺序的随机种子。</translation>
    </message>
    <message>
        <source>CPU threads for training; 0 (auto) uses every core, or all but one in the window so that it stays responsive (OMP_NUM_THREADS when set).</source>
        <translation>训练用的 CPU 线程数；0（自动）使用全部核心，在窗口中则留出一个核心，让窗口保持响应（设置了 OMP_NUM_THREADS 时按其值）。</translation>
    </message>
    <message>
        <source>Add up the gradients of this many batches before each optimisation step: the effective batch is batch_size times this, so a large batch fits a small device (1: a step per batch).</source>
        <translation>在每次优化步之前累加这么多个批次的梯度：有效批大小是 batch_size 乘以该值，因此较小的设备也能训练大批次（1：每个批次一步）。</translation>
    </message>
    <message>
        <source>Clip the gradients&apos; total norm to this before each update (0: no clipping); tames exploding gradients.</source>
        <translation>每次更新前把梯度的总范数裁剪到这个值（0：不裁剪）；抑制梯度爆炸。</translation>
    </message>
    <message>
        <source>Stop when best_metric has not improved for this many epochs and keep the best epoch&apos;s weights (0: never stop early).</source>
        <translation>best_metric 连续这么多轮没有改善时停止，并保留最佳一轮的权重（0：从不提前停止）。</translation>
    </message>
    <message>
        <source>The least change of best_metric that counts as an improvement for early stopping.</source>
        <translation>早停时 best_metric 至少要变化这么多才算改善。</translation>
    </message>
    <message>
        <source>Write last.pt and best.pt at the first epoch end at least this many seconds after the previous write, and always at the run&apos;s end (0: after every epoch). A crash loses at most about this much training; short epochs are spared the cost of a write each.</source>
        <translation>距上次写入至少这么多秒后，在第一个轮次结束时写入 last.pt 和 best.pt，运行结束时总会写入（0：每轮之后都写）。崩溃时最多损失约这么长的训练；轮次很短时不必每轮都付出写入的代价。</translation>
    </message>
    <message>
        <source>fp32, or mixed precision on a CUDA GPU: bf16, or fp16 with loss scaling; faster and lighter on memory where the GPU supports it.</source>
        <translation>fp32，或在 CUDA GPU 上用混合精度：bf16，或带损失缩放的 fp16；在 GPU 支持时更快、更省显存。</translation>
    </message>
    <message>
        <source>Train faster on an NVIDIA (CUDA) GPU: a memory layout that suits convolutions (channels_last), mixed precision when precision is fp32, and torch.compile where it is available (not in the installed app). On the CPU only the layout. Each run lists what it applied.</source>
        <translation>在 NVIDIA（CUDA）GPU 上加速训练：适合卷积的内存布局（channels_last），precision 为 fp32 时用混合精度，可用时使用 torch.compile（安装版应用中没有）。在 CPU 上只改内存布局。每个运行都会列出实际采用了哪些。</translation>
    </message>
    <message>
        <source>Also write TensorBoard event files in the run folder&apos;s tensorboard/ (scalars, hyper-parameters), so `tensorboard --logdir` on the runs folder shows every run.</source>
        <translation>同时在运行文件夹的 tensorboard/ 中写入 TensorBoard 事件文件（标量、超参数），这样对存放各运行的文件夹执行 `tensorboard --logdir` 即可看到每个运行。</translation>
    </message>
    <message>
        <source>Checkpoint or state_dict file to start from (empty: fresh).</source>
        <translation>作为起点的检查点或 state_dict 文件（留空：全新的权重）。</translation>
    </message>
    <message>
        <source>Load only the layers whose names and shapes match the start weights and keep the rest fresh (listed when the run starts).</source>
        <translation>只加载名称和形状与初始权重匹配的层，其余层保持全新（运行开始时列出）。</translation>
    </message>
    <message>
        <source>Module-name prefixes to freeze, e.g. [&quot;conv1&quot;, &quot;conv2&quot;].</source>
        <translation>要冻结的模块名前缀，例如 [&quot;conv1&quot;, &quot;conv2&quot;]。</translation>
    </message>
    <message>
        <source>The inverse of freeze: train only these module-name prefixes, e.g. [&quot;fc2&quot;]; everything else is frozen.</source>
        <translation>与 freeze 相反：只训练这些模块名前缀，例如 [&quot;fc2&quot;]；其余全部冻结。</translation>
    </message>
    <message>
        <source>Learning-rate multiplier per module-name prefix, e.g. { conv1 = 0.1, conv2 = 0.1 }; other layers use 1.</source>
        <translation>按模块名前缀设置的学习率倍数，例如 { conv1 = 0.1, conv2 = 0.1 }；其他层为 1。</translation>
    </message>
    <message>
        <source>Gradual unfreezing: every N epochs unfreeze the frozen top-level block nearest the output (0: never).</source>
        <translation>逐步解冻：每 N 轮解冻一个离输出最近的、已冻结的顶层块（0：从不）。</translation>
    </message>
    <message>
        <source>Linear or Conv2d layers to adapt with low-rank adapters (LoRA), e.g. [&quot;fc1&quot;]; their base weights are frozen.</source>
        <translation>用低秩适配器（LoRA）适配的 Linear 或 Conv2d 层，例如 [&quot;fc1&quot;]；它们的原始权重被冻结。</translation>
    </message>
    <message>
        <source>Rank of each LoRA adapter.</source>
        <translation>每个 LoRA 适配器的秩。</translation>
    </message>
    <message>
        <source>Dropout on the LoRA adapter&apos;s input.</source>
        <translation>LoRA 适配器输入上的 Dropout。</translation>
    </message>
    <message>
        <source>Share of activations zeroed while training (a cure for overfitting).</source>
        <translation>训练时置零的激活值比例（防止过拟合的办法之一）。</translation>
    </message>
    <message>
        <source>Width of each hidden layer, in order.</source>
        <translation>各隐藏层的宽度，按顺序。</translation>
    </message>
    <message>
        <source>Non-linearity after each hidden layer.</source>
        <translation>每个隐藏层之后的激活函数。</translation>
    </message>
    <message>
        <source>relu trains faster; tanh is the original&apos;s.</source>
        <translation>relu 训练更快；tanh 是原版所用。</translation>
    </message>
    <message>
        <source>Output channels of each block; the number of entries is the depth.</source>
        <translation>每个块的输出通道数；项数即深度。</translation>
    </message>
    <message>
        <source>Batch normalisation after each convolution (faster, steadier training).</source>
        <translation>每个卷积之后做批归一化（训练更快、更稳）。</translation>
    </message>
    <message>
        <source>Units in each recurrent layer.</source>
        <translation>每个循环层的单元数。</translation>
    </message>
    <message>
        <source>Stacked recurrent layers.</source>
        <translation>堆叠的循环层数。</translation>
    </message>
    <message>
        <source>Read each sequence both ways (an image top-down and bottom-up), which usually learns faster.</source>
        <translation>双向读取每个序列（图像自上而下和自下而上），通常学得更快。</translation>
    </message>
    <message>
        <source>Texts only: size of each word&apos;s learned vector.</source>
        <translation>仅用于文本：每个词的可学习向量的长度。</translation>
    </message>
    <message>
        <source>Size of each token&apos;s vector.</source>
        <translation>每个词元向量的长度。</translation>
    </message>
    <message>
        <source>Encoder layers.</source>
        <translation>编码器层数。</translation>
    </message>
    <message>
        <source>Attention heads per layer (width must divide by it).</source>
        <translation>每层的注意力头数（宽度必须能被它整除）。</translation>
    </message>
    <message>
        <source>Images only: patch side in pixels, each patch one token (0: a quarter of the image side, 16 patches; 7 on 28x28).</source>
        <translation>仅用于图像：图像块的边长（像素），每块一个词元（0：图像边长的四分之一，共 16 块；28x28 时为 7）。</translation>
    </message>
    <message>
        <source>Channels of the first blocks (the last two have twice as many).</source>
        <translation>前几个块的通道数（最后两个块是它的两倍）。</translation>
    </message>
    <message>
        <source>Samples seen by the first convolution (80 is 10 ms at 8 kHz).</source>
        <translation>第一层卷积看到的采样点数（8 kHz 下 80 即 10 毫秒）。</translation>
    </message>
    <message>
        <source>Step of the first convolution, in samples.</source>
        <translation>第一层卷积的步长，以采样点计。</translation>
    </message>
    <message>
        <source>With weights = file: a torchvision state_dict (.pth) of this model, e.g. downloaded by hand.</source>
        <translation>weights = file 时：这个模型的 torchvision state_dict（.pth），例如手动下载的。</translation>
    </message>
    <message>
        <source>What makes an epoch the best (best.pt, early stopping): the lowest validation loss, or the highest validation metric (accuracy, or R2 for a regression); for a classification also the highest validation macro F1, balanced accuracy (the mean recall of the classes: for unbalanced classes) or top-k accuracy.</source>
        <translation>什么样的轮次算最佳（best.pt、提前停止）：验证损失最低，或验证指标最高（准确率，回归为 R2）；分类任务还可以选验证宏 F1、平衡准确率（各类召回率的平均，适合类别不均衡）或前 k 项准确率最高。</translation>
    </message>
    <message>
        <source>Classification: k of the top-k accuracy recorded each epoch and in summary.json (a sample counts as right when its class is among the model&apos;s k likeliest).</source>
        <translation>分类：每轮记录及 summary.json 中前 k 项准确率的 k（样本的类别在模型最可能的 k 个类别之中即算正确）。</translation>
    </message>
    <message>
        <source>LoRA scaling: the update is multiplied by alpha/rank (alpha/sqrt(rank) with rsLoRA).</source>
        <translation>LoRA 缩放：更新量乘以 alpha/rank（用 rsLoRA 时乘以 alpha/sqrt(rank)）。</translation>
    </message>
    <message>
        <source>rsLoRA: scale the update by alpha/sqrt(rank), so higher ranks keep learning (Kalajdzievski 2023).</source>
        <translation>rsLoRA：更新量按 alpha/sqrt(rank) 缩放，秩较高时仍能继续学习（Kalajdzievski 2023）。</translation>
    </message>
    <message>
        <source>QLoRA: load the Hugging Face model&apos;s Linear layers in 4 bits (NF4) and train LoRA adapters over them: about a quarter of the weights&apos; memory. Needs lora_targets, a CUDA GPU and the bitsandbytes package.</source>
        <translation>QLoRA：以 4 位（NF4）加载 Hugging Face 模型的 Linear 层，并在其上训练 LoRA 适配器：权重内存约为原来的四分之一。需要 lora_targets、CUDA GPU 和 bitsandbytes 包。</translation>
    </message>
    <message>
        <source>none: start from random weights; pretrained: torchvision&apos;s ImageNet weights (downloaded once into the torch hub cache), with their own normalisation and image size; file: the weights file below.</source>
        <translation>none：从随机权重开始；pretrained：torchvision 的 ImageNet 预训练权重（只下载一次，存入 torch hub 缓存），并使用这些权重自己的归一化和图像尺寸；file：下面的权重文件。</translation>
    </message>
    <message>
        <source>Resize images to this square size (0: the size pretrained weights were trained at, 224; else as they are, or enlarged to the model&apos;s smallest size).</source>
        <translation>把图像缩放到这个边长的正方形（0：使用预训练权重训练时的尺寸 224；否则保持原样，或放大到模型的最小尺寸）。</translation>
    </message>
    <message>
        <source>A Hugging Face model folder (config.json, .safetensors weights, tokenizer files) or a hub id such as sentence-transformers/all-MiniLM-L6-v2, read from the local Hugging Face cache (downloaded there first when online).</source>
        <translation>Hugging Face 模型文件夹（config.json、.safetensors 权重、分词器文件），或 Hub 上的模型名，例如 sentence-transformers/all-MiniLM-L6-v2，从本机的 Hugging Face 缓存读取（联网时先下载到缓存）。</translation>
    </message>
    <message>
        <source>Recompute each block&apos;s activations in the backward pass instead of keeping them: less memory for longer texts and larger batches, about a third more time.</source>
        <translation>反向传播时重新计算每个块的激活值，而不是保存它们：更长的文本和更大的批次占用更少内存，耗时约多三分之一。</translation>
    </message>
    <message>
        <source>Share of samples held out for validation.</source>
        <translation>留作验证集的样本比例。</translation>
    </message>
    <message>
        <source>Keep only these digits (empty: all ten), e.g. [5, 6, 7].</source>
        <translation>只保留这些数字（留空：全部十个），例如 [5, 6, 7]。</translation>
    </message>
    <message>
        <source>Augmentation: shift training images by up to this many pixels at random, as padding and cropping back does (0: off).</source>
        <translation>数据增强：把训练图像随机平移最多这么多像素，效果同先填充再裁剪回来（0：关闭）。</translation>
    </message>
    <message>
        <source>Augmentation: mirror training images left-right at random (not for digits or letters, whose mirror image is another shape).</source>
        <translation>数据增强：随机左右翻转训练图像（不适用于数字或字母，它们的镜像是另一个形状）。</translation>
    </message>
    <message>
        <source>Augmentation: rotate training images by a random angle of up to this many degrees either way (0: off).</source>
        <translation>数据增强：把训练图像向任一方向随机旋转最多这么多度（0：关闭）。</translation>
    </message>
    <message>
        <source>Augmentation: MixUp blends each training batch with a shuffled copy of itself, by a share drawn from Beta(alpha, alpha); the loss weighs both labels (0: off; 0.2 to 0.4 is usual).</source>
        <translation>数据增强：图像混合（mixup_alpha）把每个训练批次与其打乱后的副本按从 β(alpha, alpha) 分布抽取的比例混合；损失按比例兼顾两个标签（0：关闭；常用 0.2 到 0.4）。</translation>
    </message>
    <message>
        <source>Augmentation: CutMix pastes a box from another training image of the batch, its size drawn from Beta(alpha, alpha); the loss weighs both labels by area (0: off; 1.0 is usual). With MixUp on too, each mixed batch gets one of the two.</source>
        <translation>数据增强：裁剪混合（cutmix_alpha）把同一批次中另一张训练图像的一块矩形区域贴过来，区域大小从 β(alpha, alpha) 分布抽取；损失按面积兼顾两个标签（0：关闭；常用 1.0）。与图像混合同时开启时，每个混合批次使用两者之一。</translation>
    </message>
    <message>
        <source>Share of training batches that MixUp or CutMix mixes (when mixup_alpha or cutmix_alpha is above 0).</source>
        <translation>由图像混合或裁剪混合处理的训练批次所占比例（mixup_alpha 或 cutmix_alpha 大于 0 时生效）。</translation>
    </message>
    <message>
        <source>Augmentation: random resized crop, as torchvision&apos;s RandomResizedCrop: cut from each training image a box of a random share of its area, from this to crop_scale_max (aspect ratio 3:4 to 4:3), and enlarge it to the whole image (0: off; 0.08 for photos as on ImageNet, 0.5 or more for small images).</source>
        <translation>数据增强：随机缩放裁剪，同 torchvision 的 RandomResizedCrop：从每张训练图像中裁出面积占比在此值到 crop_scale_max 之间随机的一块（宽高比 3:4 到 4:3），再放大到整幅图像（0：关闭；ImageNet 类照片用 0.08，小图像用 0.5 或更大）。</translation>
    </message>
    <message>
        <source>Augmentation: the largest share of the image&apos;s area a random resized crop keeps (when crop_scale_min is above 0).</source>
        <translation>数据增强：随机缩放裁剪保留的最大面积占比（crop_scale_min 大于 0 时生效）。</translation>
    </message>
    <message>
        <source>Augmentation: colour jitter: scale each training image&apos;s brightness by a random factor from 1 - this to 1 + this (0: off; 0.2 to 0.4 is usual).</source>
        <translation>数据增强：颜色抖动：把每张训练图像的亮度乘以 1 - 此值到 1 + 此值之间的随机因子（0：关闭；常用 0.2 到 0.4）。</translation>
    </message>
    <message>
        <source>Augmentation: colour jitter: scale each training image&apos;s contrast by a random factor from 1 - this to 1 + this (0: off).</source>
        <translation>数据增强：颜色抖动：把每张训练图像的对比度乘以 1 - 此值到 1 + 此值之间的随机因子（0：关闭）。</translation>
    </message>
    <message>
        <source>Augmentation: colour jitter: scale each colour training image&apos;s saturation by a random factor from 1 - this to 1 + this (0: off; grey images have none).</source>
        <translation>数据增强：颜色抖动：把每张彩色训练图像的饱和度乘以 1 - 此值到 1 + 此值之间的随机因子（0：关闭；灰度图像没有饱和度）。</translation>
    </message>
    <message>
        <source>Augmentation: colour jitter: turn each colour training image&apos;s hue by a random share of a full turn, up to this either way (0: off; 0.5 is any hue).</source>
        <translation>数据增强：颜色抖动：把每张彩色训练图像的色相随机旋转，正反方向最多为一整圈的此比例（0：关闭；0.5 即任意色相）。</translation>
    </message>
    <message>
        <source>Augmentation: TrivialAugment, as torchvision&apos;s TrivialAugmentWide: each training image gets one operation drawn at random (shear, shift, rotation, brightness, colour, contrast, sharpness, posterize, solarize, autocontrast, or none) at a random strength. No equalize.</source>
        <translation>数据增强：TrivialAugment，同 torchvision 的 TrivialAugmentWide：每张训练图像随机抽取一种操作（错切、平移、旋转、亮度、色彩、对比度、锐度、色调分离、曝光反转、自动对比度或不变），强度随机。不含直方图均衡。</translation>
    </message>
    <message>
        <source>Augmentation: random erasing, as torchvision&apos;s RandomErasing: with this probability a random box of 2% to 33% of each training image is blanked to the mean (0: off; 0.25 is usual).</source>
        <translation>数据增强：随机擦除，同 torchvision 的 RandomErasing：以此概率把每张训练图像中占 2% 到 33% 面积的随机矩形抹成均值（0：关闭；常用 0.25）。</translation>
    </message>
    <message>
        <source>Folder holding the dataset&apos;s files (empty: the TrainDesk data folder, TRAINDESK_HOME/data or the user data folder).</source>
        <translation>存放数据集文件的文件夹（留空：TrainDesk 的数据文件夹，即 TRAINDESK_HOME/data 或用户数据文件夹）。</translation>
    </message>
    <message>
        <source>Download the files when they are missing (needs internet; otherwise the error says which files to fetch and where).</source>
        <translation>缺少文件时自动下载（需要联网；否则错误信息会说明要下载哪些文件、放在哪里）。</translation>
    </message>
    <message>
        <source>Train on a random subset of this many images (0: all), for a quick trial.</source>
        <translation>只用随机抽取的这么多张图像训练（0：全部），用于快速试验。</translation>
    </message>
    <message>
        <source>fine: the 100 classes; coarse: their 20 superclasses.</source>
        <translation>fine：100 个类别；coarse：它们的 20 个超类。</translation>
    </message>
    <message>
        <source>The folder holding one subfolder of images per class.</source>
        <translation>每个类别一个图像子文件夹的那个文件夹。</translation>
    </message>
    <message>
        <source>A separate folder of validation images, laid out the same way (empty: hold out val_split of the images).</source>
        <translation>单独的验证图像文件夹，结构相同（留空：从图像中按 val_split 留出）。</translation>
    </message>
    <message>
        <source>Images are resized to this many pixels square.</source>
        <translation>图像缩放到这么多像素的正方形。</translation>
    </message>
    <message>
        <source>rgb keeps colour; grey makes one channel.</source>
        <translation>rgb 保留彩色；grey 变为单通道。</translation>
    </message>
    <message>
        <source>auto: hold the decoded images in memory when they fit memory_budget_mb, else read them from disk batch by batch; memory or stream: always that way. Both give the same results.</source>
        <translation>auto：解码后的图像放得进 memory_budget_mb 时全部放在内存中，否则从磁盘逐批读取；memory 或 stream：始终如此。两种方式的结果相同。</translation>
    </message>
    <message>
        <source>The most memory, in MB, the decoded images may take before the folder is read from disk batch by batch (storage = auto; 0: a quarter of this computer&apos;s memory).</source>
        <translation>解码后的图像最多可占用的内存（MB），超过时从磁盘逐批读取文件夹（storage = auto；0：本机内存的四分之一）。</translation>
    </message>
    <message>
        <source>Processes that decode images while the model trains, when the folder is read from disk (0: the training process decodes them itself, between steps).</source>
        <translation>从磁盘读取文件夹时，在模型训练的同时解码图像的进程数（0：由训练进程在各步之间自己解码）。</translation>
    </message>
    <message>
        <source>disk: when the folder is read from disk batch by batch, keep each image decoded at image_size in a file in TrainDesk&apos;s cache folder, so later epochs and runs read it instead of decoding it again (the same results; the file takes image_size x image_size x 3 bytes an image). none: decode every epoch.</source>
        <translation>disk：从磁盘逐批读取文件夹时，把每张按 image_size 解码好的图像存进 TrainDesk 缓存文件夹中的一个文件，之后的轮次和运行直接读取它，不再重新解码（结果相同；每张图像占 image_size x image_size x 3 字节）。none：每轮都重新解码。</translation>
    </message>
    <message>
        <source>The CSV file (comma, semicolon or tab separated, with a header row).</source>
        <translation>CSV 文件（逗号、分号或制表符分隔，带表头）。</translation>
    </message>
    <message>
        <source>The column to predict (empty: the last column).</source>
        <translation>要预测的列（留空：最后一列）。</translation>
    </message>
    <message>
        <source>auto: classification when the target is text or a few whole numbers, else regression.</source>
        <translation>auto：目标是文本或少数几个整数时为分类，否则为回归。</translation>
    </message>
    <message>
        <source>Rows with empty or NA cells: drop them, or fill numbers with the training mean and text with the most common value.</source>
        <translation>含空单元格或 NA 的行：删除，或用训练集均值填补数值、用最常见的值填补文本。</translation>
    </message>
    <message>
        <source>How the file&apos;s text is encoded. auto detects UTF-8 (with or without BOM), UTF-16 with a BOM, GB18030/GBK and cp1252.</source>
        <translation>文件文本的编码。auto 自动识别 UTF-8（带或不带 BOM）、带 BOM 的 UTF-16、GB18030/GBK 和 cp1252。</translation>
    </message>
    <message>
        <source>The CSV file, with a header row.</source>
        <translation>CSV 文件，带表头。</translation>
    </message>
    <message>
        <source>The column holding the texts.</source>
        <translation>存放文本的列。</translation>
    </message>
    <message>
        <source>The column holding each text&apos;s class.</source>
        <translation>存放每条文本类别的列。</translation>
    </message>
    <message>
        <source>Tokens kept per text (longer texts are cut).</source>
        <translation>每条文本保留的词元数（更长的文本被截断）。</translation>
    </message>
    <message>
        <source>At most this many distinct words (the most frequent in the training texts); others count as unknown.</source>
        <translation>最多这么多个不同的词元（训练文本中最常见的）；其余算作未知。</translation>
    </message>
    <message>
        <source>Words seen fewer times in training are unknown.</source>
        <translation>在训练文本中出现次数少于此值的词元算作未知。</translation>
    </message>
    <message>
        <source>Ignore upper and lower case.</source>
        <translation>不区分大小写。</translation>
    </message>
    <message>
        <source>How texts are cut into tokens. words: words and punctuation marks; characters: each Chinese or Japanese character a token, other words whole; auto: characters when most of the letters are Chinese or Japanese.</source>
        <translation>如何把文本切分成词元。words：按词和标点；characters：每个汉字或日文字符一个词元，其他词保持完整；auto：大部分字母是中文或日文时用 characters。</translation>
    </message>
    <message>
        <source>The CSV file (with a header row) or JSONL file (one JSON object a line).</source>
        <translation>CSV 文件（带表头行）或 JSONL 文件（每行一个 JSON 对象）。</translation>
    </message>
    <message>
        <source>The column or field holding each prompt.</source>
        <translation>存放各条提示的列或字段。</translation>
    </message>
    <message>
        <source>The column or field holding the response to learn.</source>
        <translation>存放待学回答的列或字段。</translation>
    </message>
    <message>
        <source>JSONL: the field holding a chat, a list of {&quot;role&quot;: &quot;system&quot; | &quot;user&quot; | &quot;assistant&quot;, &quot;content&quot;: &quot;...&quot;}; used instead of prompt and response when present. The assistant turns are learned.</source>
        <translation>JSONL：存放对话的字段，即 {&quot;role&quot;: &quot;system&quot; | &quot;user&quot; | &quot;assistant&quot;, &quot;content&quot;: &quot;...&quot;} 的列表；存在时代替提示和回答。学习的是 assistant 的各轮。</translation>
    </message>
    <message>
        <source>Tokens kept per example, prompt and response together (longer examples are cut at the end).</source>
        <translation>每个样例保留的词元数，提示和回答合计（更长的样例从末尾截断）。</translation>
    </message>
    <message>
        <source>The folder of recordings.</source>
        <translation>录音所在的文件夹。</translation>
    </message>
    <message>
        <source>folders: each subfolder&apos;s name is its recordings&apos; class; file_name: the class is the file name&apos;s first field, before an underscore.</source>
        <translation>folders：子文件夹名就是其中录音的类别；file_name：类别是文件名中下划线前的第一段。</translation>
    </message>
    <message>
        <source>A separate folder of validation recordings, laid out the same way (empty: split the folder).</source>
        <translation>单独的验证录音文件夹，结构相同（留空：从该文件夹中划分）。</translation>
    </message>
    <message>
        <source>random: hold out val_split of each class; by_group: hold out whole speakers (a name field), so no validation speaker is heard in training.</source>
        <translation>random：每个类别按 val_split 留出；by_group：整个说话人留出（文件名中的某一段），验证集的说话人不会出现在训练中。</translation>
    </message>
    <message>
        <source>by_group: which underscore-separated field of the file name names the speaker (0 is the first).</source>
        <translation>by_group：文件名中以下划线分隔的哪一段是说话人（0 为第一段）。</translation>
    </message>
    <message>
        <source>by_group: the speakers to validate on (empty: a val_split share of them at random).</source>
        <translation>by_group：用于验证的说话人（留空：随机取 val_split 比例的说话人）。</translation>
    </message>
    <message>
        <source>Every recording is resampled to this rate (Hz).</source>
        <translation>每段录音重采样到这个采样率（Hz）。</translation>
    </message>
    <message>
        <source>Seconds per recording: longer ones are cut, shorter ones padded with silence at the end.</source>
        <translation>每段录音的秒数：较长的被截断，较短的在末尾补静音。</translation>
    </message>
    <message>
        <source>What the model hears: log_mel (a log-mel spectrogram, read as a one-channel image), mfcc (its cepstral coefficients), or waveform (the raw samples, for m5).</source>
        <translation>模型听到的内容：log_mel（对数梅尔声谱图，当作单通道图像读取）、mfcc（其倒谱系数）或 waveform（原始采样点，用于 m5）。</translation>
    </message>
    <message>
        <source>Mel bands of the spectrogram.</source>
        <translation>声谱图的梅尔频带数。</translation>
    </message>
    <message>
        <source>mfcc only: cepstral coefficients kept.</source>
        <translation>仅用于 mfcc：保留的倒谱系数个数。</translation>
    </message>
    <message>
        <source>Length of each spectrogram frame&apos;s window (ms).</source>
        <translation>声谱图每帧的窗长（毫秒）。</translation>
    </message>
    <message>
        <source>Step between frames (ms).</source>
        <translation>帧移（毫秒）。</translation>
    </message>
    <message>
        <source>Added to the mel power before the log. Too small a floor (1e-6) makes padded silence and faint noise loud features; 0.01 keeps them quiet.</source>
        <translation>取对数前加到梅尔功率上的值。下限太小（1e-6）会让补齐的静音和微弱噪声成为很响的特征；0.01 让它们保持安静。</translation>
    </message>
    <message>
        <source>Standardise each band with the training recordings&apos; mean and spread.</source>
        <translation>用训练录音的均值和离散程度把每个频带标准化。</translation>
    </message>
    <message>
        <source>Scale each recording so its loudest sample is at full scale (recordings made at different levels sound alike to the model).</source>
        <translation>缩放每段录音，使最响的采样点达到满幅（不同音量录制的录音在模型听来一样）。</translation>
    </message>
    <message>
        <source>Augmentation: shift training recordings by up to this many ms either way (0: off).</source>
        <translation>数据增强：把训练录音向任一方向平移最多这么多毫秒（0：关闭）。</translation>
    </message>
    <message>
        <source>Augmentation: add white noise at a random signal-to-noise ratio between this and 40 dB (0: off).</source>
        <translation>数据增强：以随机信噪比（介于该值与 40 dB 之间）加入白噪声（0：关闭）。</translation>
    </message>
    <message>
        <source>Augmentation: change the level by up to this many dB either way (0: off).</source>
        <translation>数据增强：把音量向任一方向改变最多这么多 dB（0：关闭）。</translation>
    </message>
    <message>
        <source>Augmentation: play faster or slower by up to this share (0.1: 90% to 110%; 0: off).</source>
        <translation>数据增强：播放速度加快或减慢最多这个比例（0.1：90% 到 110%；0：关闭）。</translation>
    </message>
    <message>
        <source>Augmentation (SpecAugment): blank this many stretches of frames in each training spectrogram.</source>
        <translation>数据增强（SpecAugment）：在每个训练声谱图中遮住这么多段帧。</translation>
    </message>
    <message>
        <source>Widest time mask, in frames.</source>
        <translation>时间遮挡的最大宽度（帧）。</translation>
    </message>
    <message>
        <source>Augmentation (SpecAugment): blank this many runs of bands in each training spectrogram.</source>
        <translation>数据增强（SpecAugment）：在每个训练声谱图中遮住这么多段频带。</translation>
    </message>
    <message>
        <source>Widest frequency mask, in bands.</source>
        <translation>频率遮挡的最大宽度（频带）。</translation>
    </message>
    <message>
        <source>The dataset&apos;s folder (the repository holding recordings/, or the recordings folder itself; empty: the TrainDesk data folder, where it is downloaded).</source>
        <translation>数据集所在的文件夹（含 recordings/ 的仓库，或录音文件夹本身；留空：TrainDesk 的数据文件夹，下载到那里）。</translation>
    </message>
    <message>
        <source>Download the recordings when they are missing (needs internet; otherwise the error says what to fetch and where).</source>
        <translation>缺少录音时自动下载（需要联网；否则错误信息会说明要下载什么、放在哪里）。</translation>
    </message>
    <message>
        <source>official: recordings 0-4 of each speaker and digit validate, 5-49 train; by_speaker: the speakers in val_speakers validate, unheard in training.</source>
        <translation>official：每个说话人每个数字的录音 0-4 作验证，5-49 作训练；by_speaker：val_speakers 中的说话人作验证，训练中不会听到。</translation>
    </message>
    <message>
        <source>by_speaker: who validates.</source>
        <translation>by_speaker：用于验证的说话人。</translation>
    </message>
    <message>
        <source>Learning rate: step size of each update.</source>
        <translation>学习率：每次更新的步长。</translation>
    </message>
    <message>
        <source>Share of the previous update kept (0: plain gradient descent).</source>
        <translation>保留上一次更新的比例（0：普通梯度下降）。</translation>
    </message>
    <message>
        <source>Use Nesterov momentum (needs momentum &gt; 0).</source>
        <translation>使用 Nesterov 动量（需要 momentum &gt; 0）。</translation>
    </message>
    <message>
        <source>L2 penalty on weights (a cure for overfitting).</source>
        <translation>权重的 L2 惩罚（防止过拟合的办法之一）。</translation>
    </message>
    <message>
        <source>Decay of the running mean of gradients.</source>
        <translation>梯度滑动平均的衰减率。</translation>
    </message>
    <message>
        <source>Decay of the running mean of squared gradients.</source>
        <translation>梯度平方滑动平均的衰减率。</translation>
    </message>
    <message>
        <source>Smoothing of the squared-gradient mean.</source>
        <translation>梯度平方平均的平滑系数。</translation>
    </message>
    <message>
        <source>Momentum factor.</source>
        <translation>动量系数。</translation>
    </message>
    <message>
        <source>Epochs between decays.</source>
        <translation>两次衰减之间的轮次。</translation>
    </message>
    <message>
        <source>Factor applied at each decay.</source>
        <translation>每次衰减乘上的系数。</translation>
    </message>
    <message>
        <source>Learning rate at the end of the run.</source>
        <translation>运行结束时的学习率。</translation>
    </message>
    <message>
        <source>Epochs (fractions allowed) over which the rate rises linearly to the optimizer&apos;s rate before the decay; 0: no warmup.</source>
        <translation>衰减之前学习率线性升到优化器学习率所用的轮次（可为小数）；0：不预热。</translation>
    </message>
    <message>
        <source>Share of the run spent raising the rate.</source>
        <translation>学习率上升阶段占整个运行的比例。</translation>
    </message>
    <message>
        <source>The run starts at lr / div_factor.</source>
        <translation>运行从 lr / div_factor 开始。</translation>
    </message>
    <message>
        <source>The run ends at lr / (div_factor * final_div_factor).</source>
        <translation>运行在 lr / (div_factor * final_div_factor) 结束。</translation>
    </message>
    <message>
        <source>Factor applied at each reduction.</source>
        <translation>每次降低时乘上的系数。</translation>
    </message>
    <message>
        <source>Epochs without improvement before a reduction.</source>
        <translation>降低学习率之前允许没有改善的轮次。</translation>
    </message>
    <message>
        <source>Relative improvement of the validation loss that counts.</source>
        <translation>验证损失的相对改善达到多少才算数。</translation>
    </message>
    <message>
        <source>The rate is never reduced below this.</source>
        <translation>学习率不会降到低于这个值。</translation>
    </message>
    <message>
        <source>Share of the target spread over all classes.</source>
        <translation>分摊到所有类别上的目标比例（标签平滑）。</translation>
    </message>
    <message>
        <source>none: every sample counts the same; balanced: weigh each class by the inverse of its share of the training samples; custom: the table below.</source>
        <translation>none：每个样本同等对待；balanced：按各类别在训练样本中所占比例的倒数加权；custom：下面的表。</translation>
    </message>
    <message>
        <source>With class_weights = custom: a weight per class name, e.g. { &quot;cat&quot; = 2.0 }; classes not named weigh 1.</source>
        <translation>class_weights = custom 时：每个类别名一个权重，例如 { &quot;cat&quot; = 2.0 }；未列出的类别权重为 1。</translation>
    </message>
    <message>
        <source>none: every sample counts the same; balanced: weigh each class by the inverse of its share of the training samples.</source>
        <translation>none：每个样本同等对待；balanced：按各类别在训练样本中所占比例的倒数加权。</translation>
    </message>
</context>
<context>
    <name>ColumnField</name>
    <message>
        <source>type the column&apos;s name</source>
        <translation>输入列名</translation>
    </message>
    <message>
        <source>(the last column)</source>
        <translation>（最后一列）</translation>
    </message>
</context>
<context>
    <name>ComparePlots</name>
    <message>
        <source>Training loss (smoothed)</source>
        <translation>训练损失（平滑）</translation>
    </message>
    <message>
        <source>Validation loss per epoch</source>
        <translation>每轮验证损失</translation>
    </message>
    <message>
        <source>Validation metric per epoch</source>
        <translation>每轮验证指标</translation>
    </message>
</context>
<context>
    <name>CurvePlots</name>
    <message>
        <source>Training loss</source>
        <translation>训练损失</translation>
    </message>
    <message>
        <source>Loss per epoch</source>
        <translation>每轮损失</translation>
    </message>
    <message>
        <source>Metric per epoch</source>
        <translation>每轮指标</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>epoch</source>
        <translation>轮次</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>Accuracy per epoch</source>
        <translation>每轮准确率</translation>
    </message>
    <message>
        <source>learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>Smooth the training loss with a moving average, as TensorBoard does (0: raw). The raw curve stays faint behind.</source>
        <translation>用移动平均平滑训练损失，做法同 TensorBoard（0：不平滑）。原始曲线淡淡地留在后面。</translation>
    </message>
    <message>
        <source>Log scale</source>
        <translation>对数坐标</translation>
    </message>
    <message>
        <source>Show losses and the learning rate on a logarithmic axis.</source>
        <translation>损失和学习率使用对数坐标轴。</translation>
    </message>
    <message>
        <source>time (s)</source>
        <translation>时间（秒）</translation>
    </message>
    <message>
        <source>Draw every plot against optimisation steps, epochs or the time since the run began (seconds, as TensorBoard&apos;s wall-clock axis).</source>
        <translation>每张图的横轴：优化步数、轮次，或自训练开始以来的时间（秒，同 TensorBoard 的挂钟时间轴）。</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Save a plot as an image (PNG, SVG) or its data (CSV).</source>
        <translation>把曲线图保存为图片（PNG、SVG）或数据（CSV）。</translation>
    </message>
    <message>
        <source>Smoothing</source>
        <translation>平滑</translation>
    </message>
    <message>
        <source>X axis</source>
        <translation>横轴</translation>
    </message>
    <message>
        <source>step (end of each epoch)</source>
        <translation>步（每轮结束时）</translation>
    </message>
    <message>
        <source>&lt;b&gt;{0}.&lt;/b&gt; {1}</source>
        <translation>&lt;b&gt;{0}。&lt;/b&gt;{1}</translation>
    </message>
    <message>
        <source>Export {0}</source>
        <translation>导出 {0}</translation>
    </message>
    <message>
        <source>Could not export: {0}</source>
        <translation>无法导出：{0}</translation>
    </message>
    <message>
        <source>metric (% or R2)</source>
        <translation>指标（% 或 R2）</translation>
    </message>
</context>
<context>
    <name>DataPreviewDialog</name>
    <message>
        <source>Data preview: {0}</source>
        <translation>数据预览：{0}</translation>
    </message>
    <message>
        <source>Loading {0}…</source>
        <translation>正在加载 {0}…</translation>
    </message>
    <message>
        <source>Cannot load this data: {0}</source>
        <translation>无法加载这些数据：{0}</translation>
    </message>
    <message>
        <source>images of {0}</source>
        <translation>{0} 的图像</translation>
    </message>
    <message>
        <source>tables of {0} columns</source>
        <translation>{0} 列的表格</translation>
    </message>
    <message>
        <source>texts of {0} tokens</source>
        <translation>{0} 个词元的文本</translation>
    </message>
    <message>
        <source>recordings heard as {0} (frames x bands, or samples)</source>
        <translation>录音在模型听来是 {0}（帧 x 频带，或采样点）</translation>
    </message>
    <message>
        <source>classification with {0} classes</source>
        <translation>分类，共 {0} 个类别</translation>
    </message>
    <message>
        <source>regression</source>
        <translation>回归</translation>
    </message>
    <message>
        <source>&lt;b&gt;{0}&lt;/b&gt;: {1:,} training and {2:,} validation samples, {3}, {4}</source>
        <translation>&lt;b&gt;{0}&lt;/b&gt;：{1:,} 个训练样本，{2:,} 个验证样本，{3}，{4}</translation>
    </message>
    <message>
        <source>Each recording: {0:g} s at {1:,} Hz (longer ones cut, shorter ones padded with silence).</source>
        <translation>每段录音：{0:g} 秒，{1:,} Hz（较长的截断，较短的补静音）。</translation>
    </message>
    <message>
        <source>Note: {0}</source>
        <translation>注意：{0}</translation>
    </message>
    <message>
        <source>Samples</source>
        <translation>样本</translation>
    </message>
    <message>
        <source>Augmented</source>
        <translation>增强后</translation>
    </message>
    <message>
        <source>The same samples as one training batch sees them, with the augmentation chosen (validation samples are never augmented).</source>
        <translation>这些样本在一个训练批次中的样子，已应用所选的数据增强（验证样本从不增强）。</translation>
    </message>
    <message>
        <source>First rows</source>
        <translation>前几行</translation>
    </message>
    <message>
        <source>class</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>training samples</source>
        <translation>训练样本</translation>
    </message>
    <message>
        <source>validation samples</source>
        <translation>验证样本</translation>
    </message>
    <message>
        <source>Classes</source>
        <translation>类别</translation>
    </message>
</context>
<context>
    <name>DeviceProbe</name>
    <message>
        <source>PyTorch could not be loaded ({0}); training will not work until it is reinstalled</source>
        <translation>无法加载 PyTorch（{0}）；重新安装之前无法训练</translation>
    </message>
</context>
<context>
    <name>EpochsCheck</name>
    <message>
        <source>{0:,} epochs is a very long run (most need 10 to 100). Is that what you meant?</source>
        <translation>{0:,} 轮是非常长的训练（多数只需 10 到 100 轮）。确定是这个数吗？</translation>
    </message>
    <message>
        <source>{0:,} epochs would take about {1} at the pace of {2} ({3} an epoch). Is that what you meant?</source>
        <translation>按 {2} 的速度（每轮 {3}），{0:,} 轮约需 {1}。确定是这个数吗？</translation>
    </message>
</context>
<context>
    <name>ErrorFile</name>
    <message>
        <source>TrainDesk</source>
        <translation>TrainDesk</translation>
    </message>
</context>
<context>
    <name>EvaluationView</name>
    <message>
        <source>Evaluate</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Run the checkpoint on the validation samples.</source>
        <translation>在验证样本上运行该检查点。</translation>
    </message>
    <message>
        <source>top-k: </source>
        <translation>前 k 项：</translation>
    </message>
    <message>
        <source>k of the top-k accuracy: a sample counts as right when its class is among the model&apos;s k likeliest.</source>
        <translation>前 k 项准确率中的 k：样本的类别位于模型最可能的 k 个类别之中即算正确。</translation>
    </message>
    <message>
        <source>Choose a run and press Evaluate.</source>
        <translation>选择一个运行，然后点击“评估”。</translation>
    </message>
    <message>
        <source>Rows: the true class; columns: the predicted class. Click a cell to see its samples.</source>
        <translation>行：真实类别；列：预测类别。点击单元格查看其中的样本。</translation>
    </message>
    <message>
        <source>Click a cell of the matrix to see its samples; the mistakes are off the diagonal.</source>
        <translation>点击混淆矩阵的单元格查看其中的样本；对角线以外是错误。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Confusion matrix&lt;/b&gt; (rows: true class, columns: predicted)</source>
        <translation>&lt;b&gt;混淆矩阵&lt;/b&gt;（行：真实类别，列：预测类别）</translation>
    </message>
    <message>
        <source>&lt;b&gt;Per class&lt;/b&gt;</source>
        <translation>&lt;b&gt;各类别&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Predicted against true (validation)</source>
        <translation>预测值与真实值（验证集）</translation>
    </message>
    <message>
        <source>true value</source>
        <translation>真实值</translation>
    </message>
    <message>
        <source>predicted value</source>
        <translation>预测值</translation>
    </message>
    <message>
        <source>{0} has no checkpoint to evaluate.</source>
        <translation>{0} 没有可评估的检查点。</translation>
    </message>
    <message>
        <source>There is no finished run to evaluate yet: train one first.</source>
        <translation>还没有训练完成的运行可以评估：请先训练一个。</translation>
    </message>
    <message>
        <source>Evaluating the {0} checkpoint of {1}…</source>
        <translation>正在评估 {1} 的 {0} 检查点…</translation>
    </message>
    <message>
        <source>Cannot evaluate: {0}</source>
        <translation>无法评估：{0}</translation>
    </message>
    <message>
        <source>{0}, epoch {1}, {2:,} validation samples</source>
        <translation>{0}，第 {1} 轮，{2:,} 个验证样本</translation>
    </message>
    <message>
        <source>{0}, {2:,} validation samples</source>
        <translation>{0}，{2:,} 个验证样本</translation>
    </message>
    <message>
        <source>Mean absolute error {0:.4g} · RMSE {1:.4g} · R2 {2:.3f} ({3})</source>
        <translation>平均绝对误差 {0:.4g} · RMSE {1:.4g} · R2 {2:.3f}（{3}）</translation>
    </message>
    <message>
        <source>Validation accuracy {0}: {1:,} of {2:,} samples misclassified ({3})</source>
        <translation>验证准确率 {0}：{2:,} 个样本中有 {1:,} 个分类错误（{3}）</translation>
    </message>
    <message>
        <source>Macro F1 {0} · weighted F1 {1} · balanced accuracy {2}</source>
        <translation>宏平均 F1 {0} · 加权 F1 {1} · 平衡准确率 {2}</translation>
    </message>
    <message>
        <source> · top-{0} accuracy {1}</source>
        <translation> · 前 {0} 项准确率 {1}</translation>
    </message>
    <message>
        <source>true {0}, predicted {1}: {2} ({3:.0%} of {0})</source>
        <translation>真实 {0}，预测 {1}：{2}（占 {0} 的 {3:.0%}）</translation>
    </message>
    <message>
        <source>class</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>precision</source>
        <translation>精确率</translation>
    </message>
    <message>
        <source>recall</source>
        <translation>召回率</translation>
    </message>
    <message>
        <source>samples</source>
        <translation>样本数</translation>
    </message>
    <message>
        <source>No mistakes on the validation samples.</source>
        <translation>验证样本中没有错误。</translation>
    </message>
    <message>
        <source>correct</source>
        <translation>正确</translation>
    </message>
    <message>
        <source>mistakes</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>&lt;b&gt;True {0}, predicted {1}&lt;/b&gt;: {2} sample(s) ({3}), most confident first</source>
        <translation>&lt;b&gt;真实 {0}，预测 {1}&lt;/b&gt;：{2} 个样本（{3}），置信度高的在前</translation>
    </message>
    <message>
        <source>; the first {0} shown</source>
        <translation>；只显示前 {0} 个</translation>
    </message>
    <message>
        <source>{0:.0%} sure</source>
        <translation>置信度 {0:.0%}</translation>
    </message>
    <message>
        <source>validation sample {0}: the model gave {1} a probability of {2:.1%}</source>
        <translation>验证样本 {0}：模型给出 {1} 的概率为 {2:.1%}</translation>
    </message>
    <message>
        <source>sample</source>
        <translation>样本</translation>
    </message>
    <message>
        <source>confidence</source>
        <translation>置信度</translation>
    </message>
    <message>
        <source>Predicted against true: MAE {0:.4g}, RMSE {1:.4g}, R2 {2:.3f} (dashed: perfect)</source>
        <translation>预测值与真实值：MAE {0:.4g}，RMSE {1:.4g}，R2 {2:.3f}（虚线：完全准确）</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>runs without TrainDesk&apos;s code: torch.jit.load(path)</source>
        <translation>无需 TrainDesk 的代码即可运行：torch.jit.load(path)</translation>
    </message>
    <message>
        <source>for onnxruntime, OpenCV, TensorRT and other runtimes</source>
        <translation>用于 onnxruntime、OpenCV、TensorRT 等运行时</translation>
    </message>
    <message>
        <source>the weights only, in the safe safetensors format</source>
        <translation>只含权重，安全的 safetensors 格式</translation>
    </message>
    <message>
        <source>the weights only, as a PyTorch state_dict</source>
        <translation>只含权重，PyTorch 的 state_dict</translation>
    </message>
    <message>
        <source>Export model: {0}</source>
        <translation>导出模型：{0}</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Checkpoint</source>
        <translation>检查点</translation>
    </message>
    <message>
        <source>Save as</source>
        <translation>保存为</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <source>Show the folder the model was saved in</source>
        <translation>打开模型所在的文件夹</translation>
    </message>
    <message>
        <source>The exported model is checked against the trained one on validation samples right after it is written.</source>
        <translation>导出的模型写入后，会立即在验证样本上与训练好的模型对照检查。</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Export model as</source>
        <translation>导出模型为</translation>
    </message>
    <message>
        <source>{0} (*{1});;All files (*)</source>
        <translation>{0} (*{1});;所有文件 (*)</translation>
    </message>
    <message>
        <source>this run has no checkpoint yet</source>
        <translation>这个运行还没有检查点</translation>
    </message>
    <message>
        <source>Exporting {0} and checking it…</source>
        <translation>正在导出 {0} 并检查…</translation>
    </message>
    <message>
        <source>✓ Saved {0}&lt;br&gt;and {1} beside it.&lt;br&gt;{2}{3}.</source>
        <translation>✓ 已保存 {0}&lt;br&gt;并在旁边保存了 {1}。&lt;br&gt;{2}{3}。</translation>
    </message>
</context>
<context>
    <name>GenerationPanel</name>
    <message>
        <source>a prompt for the model to answer</source>
        <translation>一条让模型回答的提示</translation>
    </message>
    <message>
        <source>The longest response, in tokens.</source>
        <translation>回答的最大长度（词元数）。</translation>
    </message>
    <message>
        <source>0 takes the likeliest token each time (the same response every time); higher values write more freely.</source>
        <translation>0 表示每次取最可能的词元（每次回答相同）；值越大，写得越自由。</translation>
    </message>
    <message>
        <source>Sample only among the likeliest tokens whose probabilities add up to this.</source>
        <translation>只在概率合计达到此值的最可能词元中采样。</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>The response appears here as it is written.</source>
        <translation>回答会在生成时逐步显示在这里。</translation>
    </message>
    <message>
        <source>Max new tokens:</source>
        <translation>最多新词元：</translation>
    </message>
    <message>
        <source>Temperature:</source>
        <translation>温度：</translation>
    </message>
    <message>
        <source>Top-p:</source>
        <translation>Top-p：</translation>
    </message>
    <message>
        <source>Prompt:</source>
        <translation>提示：</translation>
    </message>
    <message>
        <source>Response:</source>
        <translation>回答：</translation>
    </message>
</context>
<context>
    <name>HelpMenu</name>
    <message>
        <source>&amp;Getting started</source>
        <translation>入门(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>键盘快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>Open &amp;runs folder</source>
        <translation>打开运行文件夹(&amp;R)</translation>
    </message>
    <message>
        <source>Getting started</source>
        <translation>入门</translation>
    </message>
    <message>
        <source>&lt;p&gt;&lt;b&gt;Train a model in four steps&lt;/b&gt;&lt;/p&gt;&lt;ol&gt;&lt;li&gt;On the left, pick a &lt;b&gt;Model&lt;/b&gt; and the &lt;b&gt;Data&lt;/b&gt; to train it on (Preview data… shows samples). Models that cannot read the chosen data are greyed out.&lt;/li&gt;&lt;li&gt;Set &lt;b&gt;Training&lt;/b&gt; › epochs and batch size; the rest can stay as they are. Show advanced settings reveals the others.&lt;/li&gt;&lt;li&gt;Click &lt;b&gt;Start&lt;/b&gt;. The Training tab draws the loss and the accuracy as they come; Pause and Stop keep everything, and a stopped run can be resumed.&lt;/li&gt;&lt;li&gt;In the &lt;b&gt;Runs&lt;/b&gt; tab, compare runs, then &lt;b&gt;Evaluate&lt;/b&gt;, &lt;b&gt;Export&lt;/b&gt;, or try the model on your own files in &lt;b&gt;Predict&lt;/b&gt;.&lt;/li&gt;&lt;/ol&gt;&lt;p&gt;Every run is a folder holding its settings, metrics and checkpoints; Help › Open runs folder shows them. The same runs can be made on the command line: &lt;code&gt;traindesk train run.toml&lt;/code&gt;.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;四步训练一个模型&lt;/b&gt;&lt;/p&gt;&lt;ol&gt;&lt;li&gt;在左侧选择&lt;b&gt;模型&lt;/b&gt;和用来训练它的&lt;b&gt;数据&lt;/b&gt;（“预览数据…”可查看样本）。读不了所选数据的模型显示为灰色。&lt;/li&gt;&lt;li&gt;设置&lt;b&gt;训练&lt;/b&gt; › 轮数和批大小；其余可保持不变。勾选“显示高级设置”可看到其他设置。&lt;/li&gt;&lt;li&gt;点击&lt;b&gt;开始&lt;/b&gt;。“训练”标签页随时绘制损失和准确率；暂停和停止都会保存一切，停止的运行可以继续。&lt;/li&gt;&lt;li&gt;在&lt;b&gt;运行记录&lt;/b&gt;标签页比较各次运行，然后&lt;b&gt;评估&lt;/b&gt;、&lt;b&gt;导出&lt;/b&gt;，或在&lt;b&gt;预测&lt;/b&gt;中用自己的文件试用模型。&lt;/li&gt;&lt;/ol&gt;&lt;p&gt;每次运行都是一个文件夹，保存其设置、指标和检查点；“帮助 › 打开运行文件夹”可查看。同样的运行也可以在命令行完成：&lt;code&gt;traindesk train run.toml&lt;/code&gt;。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
</context>
<context>
    <name>LayersPanel</name>
    <message>
        <source>Loading PyTorch…</source>
        <translation>正在加载 PyTorch…</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Output shape</source>
        <translation>输出形状</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>LoRA</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <source>Tick the Linear and Conv2d layers to adapt with LoRA: their weights stay frozen and a small low-rank update trains beside them.</source>
        <translation>勾选要用 LoRA 适配的 Linear 和 Conv2d 层：这些层的权重保持冻结，旁边训练一个小的低秩更新。</translation>
    </message>
    <message>
        <source>Freeze all</source>
        <translation>全部冻结</translation>
    </message>
    <message>
        <source>Untick every layer: no weight changes.</source>
        <translation>取消勾选所有层：权重都不变。</translation>
    </message>
    <message>
        <source>Unfreeze all</source>
        <translation>全部解冻</translation>
    </message>
    <message>
        <source>Tick every layer: train the whole model.</source>
        <translation>勾选所有层：训练整个模型。</translation>
    </message>
    <message>
        <source>Train only the head</source>
        <translation>只训练输出头</translation>
    </message>
    <message>
        <source>Freeze up to selected</source>
        <translation>冻结到所选层</translation>
    </message>
    <message>
        <source>Freeze the selected layer and every layer before it; train the layers after it.</source>
        <translation>冻结所选层及其之前的所有层；训练其后的层。</translation>
    </message>
    <message>
        <source>The layers cannot be shown: {0}</source>
        <translation>无法显示各层：{0}</translation>
    </message>
    <message>
        <source>Fix this setting to see the layers: {0}</source>
        <translation>请修正这项设置以查看各层：{0}</translation>
    </message>
    <message>
        <source>Building {0} on {1}…</source>
        <translation>正在 {1} 上构建 {0}…</translation>
    </message>
    <message>
        <source>the model could not run on this data ({0})</source>
        <translation>模型无法在这些数据上运行（{0}）</translation>
    </message>
    <message>
        <source>&lt;b&gt;{0}&lt;/b&gt; on &lt;b&gt;{1}&lt;/b&gt;: input {2}, {3}. Ticked layers train; unticked layers keep their weights (frozen).</source>
        <translation>&lt;b&gt;{0}&lt;/b&gt; 用于 &lt;b&gt;{1}&lt;/b&gt;：输入 {2}，{3}。勾选的层参与训练；未勾选的层保持权重不变（冻结）。</translation>
    </message>
    <message>
        <source> One sample&apos;s forward pass: {0} (a multiply-add counts 2).</source>
        <translation> 单个样本的前向传播：{0}（一次乘加计为 2）。</translation>
    </message>
    <message>
        <source>Adapt {0} with LoRA</source>
        <translation>用 LoRA 适配 {0}</translation>
    </message>
    <message>
        <source>{0}: no weights, nothing to train</source>
        <translation>{0}：没有权重，无需训练</translation>
    </message>
    <message>
        <source>{0}. Shown here without what does not fit; tick or untick a layer to write a new list.</source>
        <translation>{0}。此处略去不匹配的部分；勾选或取消勾选任一层即可写入新的列表。</translation>
    </message>
    <message>
        <source>Gradual unfreezing is on: every {0} epochs a frozen block is unfrozen; this is the state at the start.</source>
        <translation>已开启逐步解冻：每 {0} 轮解冻一个冻结的块；这里显示的是开始时的状态。</translation>
    </message>
    <message>
        <source>LoRA adapters on {0} add trainable parameters of their own when the run starts and freeze those layers&apos; weights; they are not counted here.</source>
        <translation>{0} 上的 LoRA 适配器在运行开始时会加入自己的可训练参数，并冻结这些层的权重；此处不计入。</translation>
    </message>
    <message>
        <source>Trainable: {0:,} of {1:,} parameters ({2:.1%})</source>
        <translation>可训练：{1:,} 个参数中的 {0:,} 个（{2:.1%}）</translation>
    </message>
    <message>
        <source>. Nothing would train: tick a layer.</source>
        <translation>。没有任何参数会被训练：请勾选一层。</translation>
    </message>
</context>
<context>
    <name>LeftoverFinetuneCheck</name>
    <message>
        <source>Fix</source>
        <translation>修复</translation>
    </message>
    <message>
        <source>Fine-tuning settings from before no longer fit this model: {0}. Fix resets them.</source>
        <translation>之前的微调设置已不适合此模型：{0}。点击“修复”将其重置。</translation>
    </message>
</context>
<context>
    <name>ListField</name>
    <message>
        <source>numbers, comma-separated</source>
        <translation>数字，用逗号分隔</translation>
    </message>
    <message>
        <source>names, comma-separated</source>
        <translation>名称，用逗号分隔</translation>
    </message>
    <message>
        <source>[{0}] {1} = {2!r}: expected whole numbers separated by commas, e.g. 256, 128</source>
        <translation>[{0}] {1} = {2!r}：应为用逗号分隔的整数，例如 256, 128</translation>
    </message>
</context>
<context>
    <name>LivePlots</name>
    <message>
        <source>validation</source>
        <translation>验证</translation>
    </message>
    <message>
        <source>training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>best epoch</source>
        <translation>最佳轮次</translation>
    </message>
    <message>
        <source>{0} per epoch</source>
        <translation>每轮{0}</translation>
    </message>
    <message>
        <source>accuracy, {0} (%)</source>
        <translation>准确率、{0}（%）</translation>
    </message>
    <message>
        <source>validation {0}</source>
        <translation>验证{0}</translation>
    </message>
    <message>
        <source>best: epoch {0}</source>
        <translation>最佳：第 {0} 轮</translation>
    </message>
</context>
<context>
    <name>LrFindDialog</name>
    <message>
        <source>Find learning rate</source>
        <translation>寻找学习率</translation>
    </message>
    <message>
        <source>Training a copy of the model while the learning rate grows from 1e-7 to 10; nothing is saved…</source>
        <translation>正在训练模型的副本，学习率从 1e-7 增长到 10；不保存任何内容…</translation>
    </message>
    <message>
        <source>learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>smoothed loss</source>
        <translation>平滑损失</translation>
    </message>
    <message>
        <source>Use suggested lr</source>
        <translation>使用建议的学习率</translation>
    </message>
    <message>
        <source>The loss diverged too early to suggest a learning rate; check the data and the model.</source>
        <translation>损失过早发散，无法建议学习率；请检查数据和模型。</translation>
    </message>
    <message>
        <source>Suggested learning rate: {0} (where the smoothed loss falls longest; steepest at {1}).</source>
        <translation>建议的学习率：{0}（平滑损失下降最持久处；下降最陡处为 {1}）。</translation>
    </message>
</context>
<context>
    <name>MachinesDialog</name>
    <message>
        <source>Train on several machines</source>
        <translation>在多台机器上训练</translation>
    </message>
    <message>
        <source>The address of machine 0 as the others reach it, and a free port on it.</source>
        <translation>其他机器访问 0 号机器所用的地址，以及该机器上一个空闲端口。</translation>
    </message>
    <message>
        <source>Run one command on each machine, in the same folder. The run file and the runs folder must be at the same paths on every machine (shared storage), so that machine 0 writes the run and any of them can resume it. The Runs tab shows the run when its folder is this window&apos;s runs folder.</source>
        <translation>在每台机器的同一文件夹中各运行一条命令。运行文件和运行文件夹在每台机器上都须位于相同路径（共享存储），这样 0 号机器写入运行，任何一台都能继续它。运行所在文件夹为本窗口的运行文件夹时，“运行记录”标签页会显示它。</translation>
    </message>
    <message>
        <source>Machines</source>
        <translation>机器数</translation>
    </message>
    <message>
        <source>Processes per machine</source>
        <translation>每台机器的进程数</translation>
    </message>
    <message>
        <source>Address of machine 0</source>
        <translation>0 号机器的地址</translation>
    </message>
    <message>
        <source>Cannot write the run file: {0}</source>
        <translation>无法写入运行文件：{0}</translation>
    </message>
    <message>
        <source># machine {0}</source>
        <translation># 机器 {0}</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Run files (*.toml);;All files (*)</source>
        <translation>运行文件 (*.toml);;所有文件 (*)</translation>
    </message>
    <message>
        <source>TrainDesk</source>
        <translation>TrainDesk</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Train with these settings; the run gets its own folder.</source>
        <translation>用这些设置训练；每个运行有自己的文件夹。</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop after the current batch and save a checkpoint.</source>
        <translation>在当前批次之后停止并保存检查点。</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Hold the run after the current batch; Continue goes on exactly where it paused.</source>
        <translation>在当前批次之后暂停；点“继续”从暂停处原样继续。</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>Runs are saved in {0}</source>
        <translation>运行保存在 {0}</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Runs</source>
        <translation>运行记录</translation>
    </message>
    <message>
        <source>Evaluation</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Predict</source>
        <translation>预测</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open run file…</source>
        <translation>打开运行文件(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Save run file…</source>
        <translation>保存运行文件(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Resume run…</source>
        <translation>恢复运行(&amp;R)…</translation>
    </message>
    <message>
        <source>Continue a stopped, interrupted or crashed run from its last checkpoint</source>
        <translation>从最后一个检查点继续已停止、中断或崩溃的运行</translation>
    </message>
    <message>
        <source>S&amp;weep…</source>
        <translation>参数扫描(&amp;W)…</translation>
    </message>
    <message>
        <source>Train these settings over several values of the fields you pick</source>
        <translation>用所选字段的多个取值分别训练这些设置</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About TrainDesk</source>
        <translation>关于 TrainDesk(&amp;A)</translation>
    </message>
    <message>
        <source>{0} tab</source>
        <translation>“{0}”标签页</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>Auto (system)</source>
        <translation>自动（跟随系统）</translation>
    </message>
    <message>
        <source>The language changes when TrainDesk is started again.</source>
        <translation>重新启动 TrainDesk 后切换语言。</translation>
    </message>
    <message>
        <source>Cannot start: {0}</source>
        <translation>无法开始：{0}</translation>
    </message>
    <message>
        <source>Resume run: choose its folder</source>
        <translation>恢复运行：选择它的文件夹</translation>
    </message>
    <message>
        <source>Cannot resume: {0}</source>
        <translation>无法恢复：{0}</translation>
    </message>
    <message>
        <source>Continue</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Run folder: {0}</source>
        <translation>运行文件夹：{0}</translation>
    </message>
    <message>
        <source>The run failed: {0}</source>
        <translation>运行失败：{0}</translation>
    </message>
    <message>
        <source>Open error.txt</source>
        <translation>打开 error.txt</translation>
    </message>
    <message>
        <source>A run is training. Stop it and close TrainDesk?</source>
        <translation>正在训练一个运行。要停止它并关闭 TrainDesk 吗？</translation>
    </message>
    <message>
        <source>The run is saved with a checkpoint; TrainDesk offers to resume it when it starts again.</source>
        <translation>运行会连同检查点一起保存；TrainDesk 下次启动时会提示继续它。</translation>
    </message>
    <message>
        <source>Stop and close</source>
        <translation>停止并关闭</translation>
    </message>
    <message>
        <source>Keep training</source>
        <translation>继续训练</translation>
    </message>
    <message>
        <source>The last run, {0}, {1} after {2} of {3} epochs. Resume continues it from its last checkpoint.</source>
        <translation>上一个运行 {0} 在第 {2}/{3} 轮后{1}。“恢复”会从它最后的检查点接着训练。</translation>
    </message>
    <message>
        <source>was stopped</source>
        <translation>被停止</translation>
    </message>
    <message>
        <source>was cut off</source>
        <translation>被中断</translation>
    </message>
    <message>
        <source>Open run file</source>
        <translation>打开运行文件</translation>
    </message>
    <message>
        <source>Cannot open the run file: {0}</source>
        <translation>无法打开运行文件：{0}</translation>
    </message>
    <message>
        <source>Opened {0}</source>
        <translation>已打开 {0}</translation>
    </message>
    <message>
        <source>Cannot save: {0}</source>
        <translation>无法保存：{0}</translation>
    </message>
    <message>
        <source>Save run file</source>
        <translation>保存运行文件</translation>
    </message>
    <message>
        <source>Cannot save {0}: {1}</source>
        <translation>无法保存 {0}：{1}</translation>
    </message>
    <message>
        <source>Saved {0}</source>
        <translation>已保存 {0}</translation>
    </message>
    <message>
        <source>About TrainDesk</source>
        <translation>关于 TrainDesk</translation>
    </message>
    <message>
        <source>&lt;b&gt;TrainDesk {0}&lt;/b&gt;&lt;p&gt;Train and fine-tune PyTorch models by pointing and clicking.&lt;/p&gt;&lt;p&gt;Runs are saved in {1}&lt;/p&gt;</source>
        <translation>&lt;b&gt;TrainDesk {0}&lt;/b&gt;&lt;p&gt;点点鼠标即可训练和微调 PyTorch 模型。&lt;/p&gt;&lt;p&gt;运行保存在 {1}&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>MapField</name>
    <message>
        <source>name=number, comma-separated</source>
        <translation>名称=数值，用逗号分隔</translation>
    </message>
    <message>
        <source>[{0}] {1} = {2!r}: write name=number pairs separated by commas, e.g. conv1=0.1, conv2=0.1</source>
        <translation>[{0}] {1} = {2!r}：请写用逗号分隔的“名称=数值”，例如 conv1=0.1, conv2=0.1</translation>
    </message>
</context>
<context>
    <name>MemoryLine</name>
    <message>
        <source>Memory: ≈ {0} ({1}; free memory unknown)</source>
        <translation>内存：≈ {0}（{1}；可用内存未知）</translation>
    </message>
    <message>
        <source>Memory: ≈ {0} of {1} free ({2})</source>
        <translation>内存：≈ {0}，可用 {1}（{2}）</translation>
    </message>
    <message>
        <source> · too much: see the tooltip</source>
        <translation> · 超出：见提示</translation>
    </message>
    <message>
        <source>An estimate: data {0}, weights {1}, gradients {2}, optimizer state {3}, activations {4} at batch size {5}. The activations are measured on one forward pass of two samples and scaled to the batch.</source>
        <translation>估计值：数据 {0}，权重 {1}，梯度 {2}，优化器状态 {3}，批大小 {5} 时的激活值 {4}。激活值在两个样本的一次前向传播上测得，再按批大小换算。</translation>
    </message>
    <message>
        <source>To fit: {0}</source>
        <translation>要放得下：{0}</translation>
    </message>
    <message>
        <source>; or </source>
        <translation>；或者</translation>
    </message>
    <message>
        <source>Memory: no estimate ({0})</source>
        <translation>内存：无法估计（{0}）</translation>
    </message>
</context>
<context>
    <name>MessageBar</name>
    <message>
        <source>Details…</source>
        <translation>详情…</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>{setting} {path} does not exist; check the path</source>
        <translation>{setting} {path} 不存在；请检查路径</translation>
    </message>
    <message>
        <source>{setting} {path} is not a regular file; choose a file</source>
        <translation>{setting} {path} 不是普通文件；请选择一个文件</translation>
    </message>
    <message>
        <source>{setting} {path} is a folder; choose a file</source>
        <translation>{setting} {path} 是文件夹；请选择一个文件</translation>
    </message>
    <message>
        <source>{path} is not {encoding} (byte {byte} does not fit); set the encoding to auto or to the file&apos;s encoding</source>
        <translation>{path} 不是 {encoding} 编码（第 {byte} 个字节不符）；请把编码设为 auto 或文件实际的编码</translation>
    </message>
    <message>
        <source>cannot tell how {path} is encoded (not UTF-8, UTF-16 with a BOM, GBK or cp1252); save it as UTF-8, or set the encoding</source>
        <translation>无法判断 {path} 的编码（不是 UTF-8、带 BOM 的 UTF-16、GBK 或 cp1252）；请另存为 UTF-8，或设置编码</translation>
    </message>
    <message>
        <source>{name} read as {encoding}</source>
        <translation>{name} 按 {encoding} 读取</translation>
    </message>
    <message>
        <source>{name} read as {encoding} (detected; set encoding to choose)</source>
        <translation>{name} 按 {encoding} 读取（自动检测；可在“encoding”中指定）</translation>
    </message>
    <message>
        <source>{count} number(s) with a decimal comma (1,5) read as numbers (1.5)</source>
        <translation>{count} 个带小数逗号的数（1,5）按数值读取（1.5）</translation>
    </message>
    <message>
        <source>{path} is empty; a CSV file needs a header row and data rows</source>
        <translation>{path} 是空的；CSV 文件需要一行表头和若干数据行</translation>
    </message>
    <message>
        <source>{path} line {line} has {fields} fields but the header has {header}; fix that line (a stray separator or an unquoted quote?)</source>
        <translation>{path} 第 {line} 行有 {fields} 个字段，而表头有 {header} 个；请修正这一行（多了分隔符，或引号没有配对？）</translation>
    </message>
    <message>
        <source>texts tokenized by character (auto; set tokenizer to choose)</source>
        <translation>文本按字切分（自动；可在“tokenizer”中指定）</translation>
    </message>
    <message>
        <source>texts tokenized by word (auto; set tokenizer to choose)</source>
        <translation>文本按词切分（自动；可在“tokenizer”中指定）</translation>
    </message>
    <message>
        <source>vocabulary of {count} tokens from the training texts</source>
        <translation>从训练文本建立了 {count} 个词元的词表</translation>
    </message>
    <message>
        <source>vocabulary of {count} tokens from the training texts; {cut} text(s) longer than {length} tokens were cut</source>
        <translation>从训练文本建立了 {count} 个词元的词表；{cut} 条文本超过 {length} 个词元，已截断</translation>
    </message>
    <message>
        <source>texts tokenized by {model}&apos;s own tokenizer (longest: {longest} tokens)</source>
        <translation>文本用 {model} 自己的分词器切分（最长 {longest} 个词元）</translation>
    </message>
    <message>
        <source>texts tokenized by {model}&apos;s own tokenizer; {cut} text(s) longer than {length} tokens were cut</source>
        <translation>文本用 {model} 自己的分词器切分；{cut} 条文本超过 {length} 个词元，已截断</translation>
    </message>
    <message>
        <source>between {low} and {high}</source>
        <translation>在 {low} 与 {high} 之间</translation>
    </message>
    <message>
        <source>at least {low}</source>
        <translation>至少 {low}</translation>
    </message>
    <message>
        <source>at most {high}</source>
        <translation>至多 {high}</translation>
    </message>
    <message>
        <source>cannot read {path} ({reason})</source>
        <translation>无法读取 {path}（{reason}）</translation>
    </message>
    <message>
        <source>The loss reached {peak}: the steps were far too large and the model learned nothing useful. Lower the learning rate (try a tenth of it), or clip gradients, and start again.</source>
        <translation>损失达到 {peak}：步长过大，模型没有学到有用的东西。请降低学习率（试试原来的十分之一），或裁剪梯度，然后重新开始。</translation>
    </message>
    <message>
        <source>The loss reached {peak} from {start}: the steps were far too large and the model learned nothing useful. Lower the learning rate (try a tenth of it), or clip gradients, and start again.</source>
        <translation>损失从 {start} 升到 {peak}：步长过大，模型没有学到有用的东西。请降低学习率（试试原来的十分之一），或裁剪梯度，然后重新开始。</translation>
    </message>
    <message>
        <source>The loss is not a number any more</source>
        <translation>损失不再是一个数</translation>
    </message>
    <message>
        <source>The loss became infinite or NaN: the steps were too large. Lower the learning rate (try a tenth of it) and start again.</source>
        <translation>损失变成了无穷大或 NaN：步长过大。请降低学习率（试试原来的十分之一），然后重新开始。</translation>
    </message>
    <message>
        <source>Overfitting: the model is memorising the training data</source>
        <translation>过拟合：模型在死记训练数据</translation>
    </message>
    <message>
        <source>The validation loss has been rising since epoch {best} while the training loss keeps falling. Stop earlier (the best checkpoint is kept), or add weight decay, dropout or data augmentation, or train fewer epochs.</source>
        <translation>验证损失自第 {best} 轮起一直上升，而训练损失仍在下降。请提前停止（最佳检查点会保留），或加入权重衰减、Dropout 或数据增强，或减少训练轮次。</translation>
    </message>
    <message>
        <source>Underfitting: the model is not learning much</source>
        <translation>欠拟合：模型学到的很少</translation>
    </message>
    <message>
        <source>Both losses are flat and still high. Try a bigger model (more or wider layers), more epochs, or a higher learning rate.</source>
        <translation>两条损失曲线都很平，而且仍然偏高。试试更大的模型（更多或更宽的层）、更多轮次，或更高的学习率。</translation>
    </message>
    <message>
        <source>The loss exploded</source>
        <translation>损失爆炸了</translation>
    </message>
    <message>
        <source>The accuracy stayed at chance level</source>
        <translation>准确率停留在随机猜测的水平</translation>
    </message>
    <message>
        <source>After {epochs} epochs the validation accuracy is {accuracy}, what guessing among {classes} classes gets. Lower the learning rate, and check the data: do the labels match the inputs?</source>
        <translation>训练 {epochs} 轮后，验证准确率为 {accuracy}，相当于在 {classes} 个类别中随机猜测。请降低学习率，并检查数据：标签与输入对得上吗？</translation>
    </message>
    <message>
        <source>{count} examples tokenized by {model}&apos;s own tokenizer in its chat template (longest: {longest} tokens)</source>
        <translation>{count} 个样例已用 {model} 自己的分词器按其对话模板切分（最长：{longest} 个词元）</translation>
    </message>
    <message>
        <source>{count} examples tokenized by {model}&apos;s own tokenizer as prompt, new line, response, end token (it has no chat template; longest: {longest} tokens)</source>
        <translation>{count} 个样例已用 {model} 自己的分词器按“提示、换行、回答、结束词元”切分（它没有对话模板；最长：{longest} 个词元）</translation>
    </message>
    <message>
        <source>{cut} example(s) longer than {length} tokens were cut</source>
        <translation>{cut} 个样例超过 {length} 个词元，已截断</translation>
    </message>
    <message>
        <source>{count} example(s) left out: the prompt fills max_length = {length}, leaving no response token</source>
        <translation>{count} 个样例未使用：提示已占满 max_length = {length}，没有留下回答的词元</translation>
    </message>
    <message>
        <source>{model}&apos;s tokenizer has no end token: generated responses run to the most new tokens</source>
        <translation>{model} 的分词器没有结束词元：生成的回答会一直写到最多新词元数</translation>
    </message>
    <message>
        <source>{model}&apos;s chat template writes no end-of-turn token after a response: generated responses run until the model&apos;s end token or the most new tokens</source>
        <translation>{model} 的对话模板在回答之后不写回合结束词元：生成的回答会一直写到模型的结束词元或最多新词元数</translation>
    </message>
    <message>
        <source>{count} example(s) with an empty prompt or response left out (first: line {line})</source>
        <translation>{count} 个提示或回答为空的样例未使用（第一个：第 {line} 行）</translation>
    </message>
    <message>
        <source>{count} unreadable image file(s) in {root} skipped ({names})</source>
        <translation>已跳过 {root} 中 {count} 个无法读取的图像文件（{names}）</translation>
    </message>
    <message>
        <source>images read from disk batch by batch (workers = {workers}): decoded they would take {size} MB, more than the memory budget of {budget} MB</source>
        <translation>图像从磁盘逐批读取（workers = {workers}）：全部解码需要 {size} MB，超过了 {budget} MB 的内存预算</translation>
    </message>
    <message>
        <source>images read from disk batch by batch (storage = stream, workers = {workers})</source>
        <translation>图像从磁盘逐批读取（storage = stream，workers = {workers}）</translation>
    </message>
    <message>
        <source>[training] best_metric = {choice} ranks a classification, and this data is a regression; choose val_loss or val_metric</source>
        <translation>[training] best_metric = {choice} 只适用于分类，而这份数据是回归；请选择 val_loss 或 val_metric</translation>
    </message>
    <message>
        <source>[training] best_metric = val_top_k_accuracy needs more classes than [training] top_k = {k}, and the data has {classes}; lower top_k</source>
        <translation>[training] best_metric = val_top_k_accuracy 需要类别数多于 [training] top_k = {k}，而数据只有 {classes} 个类别；请调小 top_k</translation>
    </message>
    <message>
        <source>memory: this run needs {need} ({parts}); to fit: {advice}</source>
        <translation>内存：这次运行需要 {need}（{parts}）；要放得下：{advice}</translation>
    </message>
    <message>
        <source>lower [training] batch_size to {batch} (raise [training] accumulate_steps to keep the samples per step)</source>
        <translation>把 [training] batch_size 调小到 {batch}（调大 [training] accumulate_steps，使每步的样本数不变）</translation>
    </message>
    <message>
        <source>train LoRA adapters ([finetune] lora_targets) and only the head besides ([finetune] train_only = [&quot;{head}&quot;]): gradients and optimizer state shrink to theirs</source>
        <translation>训练 LoRA 适配器（[finetune] lora_targets），此外只训练输出头（[finetune] train_only = [&quot;{head}&quot;]）：梯度和优化器状态缩小到只有它们的大小</translation>
    </message>
    <message>
        <source>lower [data] max_length (now {length}): activations grow with it</source>
        <translation>调小 [data] max_length（现在是 {length}）：激活值随它增长</translation>
    </message>
    <message>
        <source>set [training] precision = &quot;bf16&quot; (or &quot;fp16&quot;) to about halve the activations</source>
        <translation>设置 [training] precision = &quot;bf16&quot;（或 &quot;fp16&quot;），激活值约减半</translation>
    </message>
    <message>
        <source>pick a smaller model or less data: data, weights, gradients and optimizer state alone need {size}</source>
        <translation>选更小的模型或更少的数据：仅数据、权重、梯度和优化器状态就需要 {size}</translation>
    </message>
    <message>
        <source>lower [training] batch_size</source>
        <translation>调小 [training] batch_size</translation>
    </message>
    <message>
        <source>process rank {rank} of {world} (pid {pid}) ended ({cause}); the other processes were stopped{resume}</source>
        <translation>{world} 个进程中的 rank {rank}（pid {pid}）已结束（{cause}）；其他进程已停止{resume}</translation>
    </message>
    <message>
        <source>; resume it with traindesk train --resume {run_dir}</source>
        <translation>；用 traindesk train --resume {run_dir} 继续它</translation>
    </message>
    <message>
        <source>training on several processes needs TrainDesk run from a Python installation (the README&apos;s Quick start); the installed app trains on one process</source>
        <translation>多进程训练需要从 Python 环境运行 TrainDesk（见 README 的快速上手）；安装版应用只用一个进程训练</translation>
    </message>
    <message>
        <source>[data] crop_scale_min = {low} is above crop_scale_max = {high}; the smallest share of the area cannot be larger than the largest</source>
        <translation>[data] crop_scale_min = {low} 大于 crop_scale_max = {high}；面积占比的下限不能大于上限</translation>
    </message>
    <message>
        <source>decoded images cached on disk in {path} ({size} MB; {filled} of {count} images there so far)</source>
        <translation>解码后的图像缓存在磁盘上的 {path}（{size} MB；目前已存入 {count} 张中的 {filled} 张）</translation>
    </message>
    <message>
        <source>decoded images not cached: the cache needs {size} MB and {folder} has {free} MB free; free disk space or set [data] cache = &quot;none&quot;</source>
        <translation>未缓存解码后的图像：缓存需要 {size} MB，而 {folder} 只剩 {free} MB 可用；请释放磁盘空间，或设置 [data] cache = &quot;none&quot;</translation>
    </message>
    <message>
        <source>decoded images not cached: cannot write {path} ({reason}); make the folder writable or set [data] cache = &quot;none&quot;</source>
        <translation>未缓存解码后的图像：无法写入 {path}（{reason}）；请让该文件夹可写，或设置 [data] cache = &quot;none&quot;</translation>
    </message>
    <message>
        <source>QLoRA needs the bitsandbytes package and an NVIDIA GPU, which this installed TrainDesk does not carry; use TrainDesk installed with pip on a computer with an NVIDIA GPU (`pip install traindesk bitsandbytes`), or turn [finetune] qlora off for plain LoRA</source>
        <translation>QLoRA 需要 bitsandbytes 包和 NVIDIA GPU，而这个安装版 TrainDesk 不带 bitsandbytes；请在有 NVIDIA GPU 的电脑上用 pip 安装 TrainDesk（`pip install traindesk bitsandbytes`），或者关闭 [finetune] qlora，改用普通 LoRA</translation>
    </message>
    <message>
        <source>QLoRA needs the bitsandbytes package, which is not installed; install it with `pip install bitsandbytes` (on a computer with an NVIDIA GPU), or turn [finetune] qlora off for plain LoRA</source>
        <translation>QLoRA 需要 bitsandbytes 包，但尚未安装；请用 `pip install bitsandbytes` 安装（在有 NVIDIA GPU 的计算机上），或关闭 [finetune] qlora 改用普通 LoRA</translation>
    </message>
    <message>
        <source>QLoRA needs a CUDA GPU and [training] device is {device}; choose device = &quot;auto&quot; or &quot;cuda&quot;, or turn [finetune] qlora off for plain LoRA</source>
        <translation>QLoRA 需要 CUDA GPU，而 [training] device 为 {device}；请选择 device = &quot;auto&quot; 或 &quot;cuda&quot;，或关闭 [finetune] qlora 改用普通 LoRA</translation>
    </message>
    <message>
        <source>QLoRA needs a CUDA GPU and there is none here; train on a computer with an NVIDIA GPU, or turn [finetune] qlora off for plain LoRA</source>
        <translation>QLoRA 需要 CUDA GPU，但这里没有；请在有 NVIDIA GPU 的计算机上训练，或关闭 [finetune] qlora 改用普通 LoRA</translation>
    </message>
</context>
<context>
    <name>Metrics</name>
    <message>
        <source>accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>R2</source>
        <translation>R2</translation>
    </message>
    <message>
        <source>perplexity</source>
        <translation>困惑度</translation>
    </message>
    <message>
        <source>macro F1</source>
        <translation>宏 F1</translation>
    </message>
    <message>
        <source>balanced accuracy</source>
        <translation>平衡准确率</translation>
    </message>
    <message>
        <source>top-{k} accuracy</source>
        <translation>前 {k} 项准确率</translation>
    </message>
    <message>
        <source>accuracy (%)</source>
        <translation>准确率 (%)</translation>
    </message>
</context>
<context>
    <name>ParamForm</name>
    <message>
        <source>“{0}” cannot be used: must be {1}. Kept {2}.</source>
        <translation>“{0}”不能使用：必须{1}。已保留 {2}。</translation>
    </message>
    <message>
        <source>{0} ({1})</source>
        <translation>{0}（{1}）</translation>
    </message>
    <message>
        <source>{0}
Accepted: {1}.</source>
        <translation>{0}
可取值：{1}。</translation>
    </message>
    <message>
        <source>{0}
Whole numbers separated by commas.</source>
        <translation>{0}
用逗号分隔的整数。</translation>
    </message>
    <message>
        <source>{0}
Names separated by commas.</source>
        <translation>{0}
用逗号分隔的名称。</translation>
    </message>
</context>
<context>
    <name>PathField</name>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Choose {0}</source>
        <translation>选择 {0}</translation>
    </message>
</context>
<context>
    <name>PredictView</name>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)</source>
        <translation>图像 (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Recordings (*.wav *.wave *.flac *.ogg);;All files (*)</source>
        <translation>录音 (*.wav *.wave *.flac *.ogg);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Drop an image here
or open one</source>
        <translation>把图像拖到这里
或打开一张</translation>
    </message>
    <message>
        <source>Open image…</source>
        <translation>打开图像…</translation>
    </message>
    <message>
        <source>Clean up as a drawing</source>
        <translation>按手绘图整理</translation>
    </message>
    <message>
        <source>Cut the picture to its ink and thicken the strokes before the usual preparation, for a thin-pen drawing on a big canvas. Ticked by itself only when the picture does not look like the training scans.</source>
        <translation>在常规预处理之前，把图片裁到笔迹并加粗笔画，适用于大画布上的细笔手绘。仅当图片看起来不像训练用的扫描图时才会自动勾选。</translation>
    </message>
    <message>
        <source>Predict</source>
        <translation>预测</translation>
    </message>
    <message>
        <source>Choose a run, then drop an image or type a row of values.</source>
        <translation>选择一个运行，然后拖入图像或输入一行数值。</translation>
    </message>
    <message>
        <source>class</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>probability</source>
        <translation>概率</translation>
    </message>
    <message>
        <source>Open a recording</source>
        <translation>打开录音</translation>
    </message>
    <message>
        <source>Open an image</source>
        <translation>打开图像</translation>
    </message>
    <message>
        <source>the row</source>
        <translation>这一行</translation>
    </message>
    <message>
        <source>the prompt</source>
        <translation>提示</translation>
    </message>
    <message>
        <source>there is no trained run yet: train one first</source>
        <translation>还没有训练好的运行：请先训练一个</translation>
    </message>
    <message>
        <source>Predicting on {0}…</source>
        <translation>正在对{0}进行预测…</translation>
    </message>
    <message>
        <source>Loading {0} and predicting on {1}…</source>
        <translation>正在加载 {0} 并对{1}进行预测…</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>{0}: writes a response to a prompt; type one and press Generate.</source>
        <translation>{0}：为提示写出回答；输入提示后点击“生成”。</translation>
    </message>
    <message>
        <source>a value</source>
        <translation>一个数值</translation>
    </message>
    <message>
        <source>classes</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>an image; drop one here.</source>
        <translation>一张图像；把图像拖到这里。</translation>
    </message>
    <message>
        <source>a recording; drop one here.</source>
        <translation>一段录音；把录音拖到这里。</translation>
    </message>
    <message>
        <source>a row of values.</source>
        <translation>一行数值。</translation>
    </message>
    <message>
        <source>{0}: predicts {1} from {2}</source>
        <translation>{0}：根据{2}预测{1}</translation>
    </message>
    <message>
        <source>Open recording…</source>
        <translation>打开录音…</translation>
    </message>
    <message>
        <source>Drop a recording here
or open one</source>
        <translation>把录音拖到这里
或打开一段</translation>
    </message>
    <message>
        <source>Type or paste a text:</source>
        <translation>输入或粘贴一段文本：</translation>
    </message>
    <message>
        <source>a text to classify</source>
        <translation>要分类的文本</translation>
    </message>
    <message>
        <source>Type one row of values, separated by commas, in this order:&lt;br&gt;&lt;b&gt;{0}&lt;/b&gt;</source>
        <translation>按以下顺序输入一行用逗号分隔的数值：&lt;br&gt;&lt;b&gt;{0}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Cannot predict: {0}</source>
        <translation>无法预测：{0}</translation>
    </message>
    <message>
        <source>the model ended it</source>
        <translation>模型自行结束</translation>
    </message>
    <message>
        <source>max new tokens reached</source>
        <translation>达到最多新词元数</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>&lt;br&gt;Note: {0}</source>
        <translation>&lt;br&gt;注意：{0}</translation>
    </message>
    <message>
        <source>Response of {0} tokens ({1}).</source>
        <translation>回答共 {0} 个词元（{1}）。</translation>
    </message>
    <message>
        <source>Predicted: &lt;b&gt;{0:.4g}&lt;/b&gt;</source>
        <translation>预测值：&lt;b&gt;{0:.4g}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Prediction done.</source>
        <translation>预测完成。</translation>
    </message>
    <message>
        <source>Most likely &lt;b&gt;{0}&lt;/b&gt; ({1:.1%}).</source>
        <translation>最可能是 &lt;b&gt;{0}&lt;/b&gt;（{1:.1%}）。</translation>
    </message>
    <message>
        <source>The model&apos;s input ({0}x{1})</source>
        <translation>模型的输入（{0}x{1}）</translation>
    </message>
</context>
<context>
    <name>ProcessesField</name>
    <message>
        <source>Train on this many processes of this machine through torchrun: one per GPU when the device is a GPU, or CPU processes to try it out. The batch size is the global batch, split across them; 1 trains in the window itself.</source>
        <translation>通过 torchrun 在本机用这么多个进程训练：设备为 GPU 时每块 GPU 一个进程，也可以用 CPU 进程试用。批大小是全局批大小，由各进程分担；为 1 时在窗口自身中训练。</translation>
    </message>
    <message>
        <source>Several machines…</source>
        <translation>多台机器…</translation>
    </message>
    <message>
        <source>The command to run on each machine of a run on several machines.</source>
        <translation>多机运行时每台机器上要执行的命令。</translation>
    </message>
</context>
<context>
    <name>RunPicker</name>
    <message>
        <source>best: the epoch with the lowest validation loss; last: where the run ended.</source>
        <translation>best：验证损失最低的那一轮；last：运行结束时的状态。</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Checkpoint</source>
        <translation>检查点</translation>
    </message>
    <message>
        <source>({0} on {1}, {2})</source>
        <translation>（{0}，数据 {1}，{2}）</translation>
    </message>
</context>
<context>
    <name>RunProgress</name>
    <message>
        <source>{0:.1f} s</source>
        <translation>{0:.1f} 秒</translation>
    </message>
    <message>
        <source>validation {0} {1}</source>
        <translation>验证{0} {1}</translation>
    </message>
    <message>
        <source>validation loss {0:.4g}</source>
        <translation>验证损失 {0:.4g}</translation>
    </message>
    <message>
        <source>Choose the settings on the left, then press Start.</source>
        <translation>在左侧选好设置，然后点击“开始”。</translation>
    </message>
    <message>
        <source>Preparing the run: loading the data and building the model…</source>
        <translation>正在准备运行：加载数据并构建模型…</translation>
    </message>
    <message>
        <source>Note: {0}</source>
        <translation>注意：{0}</translation>
    </message>
    <message>
        <source>Epoch 1/{0}</source>
        <translation>第 1/{0} 轮</translation>
    </message>
    <message>
        <source>Resumed after step {0:,} · epoch {1}/{2}</source>
        <translation>从第 {0:,} 步恢复 · 第 {1}/{2} 轮</translation>
    </message>
    <message>
        <source>{0} · training on {1} · {2:,} training and {3:,} validation samples</source>
        <translation>{0} · 在 {1} 上训练 · {2:,} 个训练样本，{3:,} 个验证样本</translation>
    </message>
    <message>
        <source>Epoch {0}/{1}</source>
        <translation>第 {0}/{1} 轮</translation>
    </message>
    <message>
        <source>step {0:,}/{1:,}</source>
        <translation>第 {0:,}/{1:,} 步</translation>
    </message>
    <message>
        <source>{0} left</source>
        <translation>剩余 {0}</translation>
    </message>
    <message>
        <source>{0:,.0f} samples/s</source>
        <translation>{0:,.0f} 样本/秒</translation>
    </message>
    <message>
        <source> ({0:,.0f} tokens/s)</source>
        <translation>（{0:,.0f} 词元/秒）</translation>
    </message>
    <message>
        <source>Stopping after this batch and saving a checkpoint…</source>
        <translation>当前批次结束后停止并保存检查点…</translation>
    </message>
    <message>
        <source>the current batch</source>
        <translation>当前批次</translation>
    </message>
    <message>
        <source>step {0:,}/{1:,} (epoch {2}/{3})</source>
        <translation>第 {0:,}/{1:,} 步（第 {2}/{3} 轮）</translation>
    </message>
    <message>
        <source>Paused after {0} · Continue goes on; Stop saves and ends</source>
        <translation>已在{0}之后暂停 · “继续”接着训练；“停止”保存并结束</translation>
    </message>
    <message>
        <source>Continuing…</source>
        <translation>继续中…</translation>
    </message>
    <message>
        <source>Stopped before training began; no run folder was kept.</source>
        <translation>在训练开始前已停止；未保留运行文件夹。</translation>
    </message>
    <message>
        <source>Completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <source>{0} after {1} of {2} epochs in {3}</source>
        <translation>{0}：{2} 轮中完成了 {1} 轮，用时 {3}</translation>
    </message>
    <message>
        <source> · stopped early: no better {0} lately; the weights of epoch {1} kept</source>
        <translation> · 提前停止：{0} 近来没有改善；保留第 {1} 轮的权重</translation>
    </message>
    <message>
        <source> · File &gt; Resume run… continues it</source>
        <translation> · 用“文件 &gt; 恢复运行…”可以继续</translation>
    </message>
    <message>
        <source>The run did not finish; see the message below.</source>
        <translation>运行没有完成；请看下方的消息。</translation>
    </message>
    <message>
        <source>The run did not start; see the message below.</source>
        <translation>运行没有开始；请看下方的消息。</translation>
    </message>
</context>
<context>
    <name>RunSetupPanel</name>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <source>Optimizer</source>
        <translation>优化器</translation>
    </message>
    <message>
        <source>Learning-rate schedule</source>
        <translation>学习率调度</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>损失函数</translation>
    </message>
    <message>
        <source>tick layers in the Layers tab</source>
        <translation>在“层”标签页中勾选各层</translation>
    </message>
    <message>
        <source>Choose layers…</source>
        <translation>选择层…</translation>
    </message>
    <message>
        <source>Tick the layers that train in the Layers tab.</source>
        <translation>在“层”标签页中勾选参与训练的层。</translation>
    </message>
    <message>
        <source>Preview data…</source>
        <translation>预览数据…</translation>
    </message>
    <message>
        <source>Show sample images with their labels, the samples per class, or the first rows of the chosen dataset.</source>
        <translation>显示所选数据集的样本图像及其标签、每个类别的样本数，或前几行数据。</translation>
    </message>
    <message>
        <source>Find lr…</source>
        <translation>寻找学习率…</translation>
    </message>
    <message>
        <source>Learning-rate range test: train a copy of this model briefly while the lr grows, plot the loss against it and suggest an lr. Nothing is saved.</source>
        <translation>学习率范围测试：在学习率逐渐增大的同时短暂训练该模型的副本，绘制损失随学习率的变化并建议一个学习率。不保存任何内容。</translation>
    </message>
    <message>
        <source>Show advanced settings</source>
        <translation>显示高级设置</translation>
    </message>
    <message>
        <source>Also show the settings most runs leave alone: precision, checkpoint timing, gradient clipping, LoRA, lr multipliers and more.</source>
        <translation>同时显示多数运行不需要改动的设置：精度、检查点保存间隔、梯度裁剪、LoRA、学习率倍数等。</translation>
    </message>
    <message>
        <source>processes</source>
        <translation>进程数</translation>
    </message>
    <message>
        <source>{0} cannot read {1}, which {2} gives; it takes {3}.</source>
        <translation>{0} 读不了 {2} 提供的{1}；它接受{3}。</translation>
    </message>
    <message>
        <source> or </source>
        <translation>或</translation>
    </message>
    <message>
        <source>Looking for a CUDA GPU…</source>
        <translation>正在查找 CUDA GPU…</translation>
    </message>
    <message>
        <source>images</source>
        <translation>图像</translation>
    </message>
    <message>
        <source>tables</source>
        <translation>表格</translation>
    </message>
    <message>
        <source>texts</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>audio</source>
        <translation>音频</translation>
    </message>
    <message>
        <source>prompts and responses</source>
        <translation>提示和回答</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Fine-tuning</source>
        <translation>微调</translation>
    </message>
    <message>
        <source>Data preview</source>
        <translation>数据预览</translation>
    </message>
    <message>
        <source>Find lr</source>
        <translation>寻找学习率</translation>
    </message>
</context>
<context>
    <name>RunStatus</name>
    <message>
        <source>completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>diverged</source>
        <translation>发散</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>无法读取</translation>
    </message>
</context>
<context>
    <name>RunsPanel</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Best metric</source>
        <translation>最佳指标</translation>
    </message>
    <message>
        <source>Best val loss</source>
        <translation>最佳验证损失</translation>
    </message>
    <message>
        <source>Epochs</source>
        <translation>轮次</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>用时</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Filter runs by name, model, dataset, status or note</source>
        <translation>按名称、模型、数据集、状态或备注筛选运行</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Read the runs folder again: {0}</source>
        <translation>重新读取运行文件夹：{0}</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <source>Give the run a name of your own (its folder keeps its name).</source>
        <translation>给运行起个自己的名字（文件夹名不变）。</translation>
    </message>
    <message>
        <source>Note…</source>
        <translation>备注…</translation>
    </message>
    <message>
        <source>Write a note about the run.</source>
        <translation>为这个运行写一条备注。</translation>
    </message>
    <message>
        <source>Load settings</source>
        <translation>载入设置</translation>
    </message>
    <message>
        <source>Put this run&apos;s settings into the setup panel.</source>
        <translation>把这个运行的设置填入左侧的设置面板。</translation>
    </message>
    <message>
        <source>Run again</source>
        <translation>再次运行</translation>
    </message>
    <message>
        <source>Start a new run with this run&apos;s settings.</source>
        <translation>用这个运行的设置开始一个新的运行。</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>Continue a stopped or interrupted run from its last checkpoint.</source>
        <translation>从最后一个检查点继续已停止或中断的运行。</translation>
    </message>
    <message>
        <source>Evaluate</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Confusion matrix, per-class scores and mistakes of the best checkpoint.</source>
        <translation>最佳检查点的混淆矩阵、各类别得分和错误样本。</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Save the trained model as TorchScript, ONNX, safetensors or a state_dict.</source>
        <translation>把训练好的模型保存为 TorchScript、ONNX、safetensors 或 state_dict。</translation>
    </message>
    <message>
        <source>Copy command</source>
        <translation>复制命令</translation>
    </message>
    <message>
        <source>Copy the command line that repeats this run.</source>
        <translation>复制可以重复这个运行的命令行。</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <source>Show the run&apos;s folder in the file manager.</source>
        <translation>在文件管理器中显示运行的文件夹。</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>Delete the run&apos;s folder and everything in it.</source>
        <translation>删除运行的文件夹及其中的所有内容。</translation>
    </message>
    <message>
        <source>Only the settings that differ</source>
        <translation>只显示不同的设置</translation>
    </message>
    <message>
        <source>Select runs above to compare them: Ctrl-click or Shift-click to select several.</source>
        <translation>在上方选择运行进行比较：按住 Ctrl 或 Shift 点击可选择多个。</translation>
    </message>
    <message>
        <source>Curves</source>
        <translation>曲线</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>{0} runs</source>
        <translation>{0} 个运行</translation>
    </message>
    <message>
        <source>{0} of {1} runs</source>
        <translation>{1} 个运行中的 {0} 个</translation>
    </message>
    <message>
        <source>Open error.txt</source>
        <translation>打开 error.txt</translation>
    </message>
    <message>
        <source>Why the run failed, with the full traceback</source>
        <translation>运行失败的原因，附完整的回溯信息</translation>
    </message>
    <message>
        <source>setting</source>
        <translation>设置项</translation>
    </message>
    <message>
        <source>Rename run</source>
        <translation>重命名运行</translation>
    </message>
    <message>
        <source>Name for {0} (empty: the folder&apos;s name):</source>
        <translation>{0} 的名称（留空：使用文件夹名）：</translation>
    </message>
    <message>
        <source>Note on {0}:</source>
        <translation>{0} 的备注：</translation>
    </message>
    <message>
        <source>TrainDesk</source>
        <translation>TrainDesk</translation>
    </message>
    <message>
        <source>Delete run</source>
        <translation>删除运行</translation>
    </message>
    <message>
        <source>Delete the run folder
{0}
with its checkpoints and metrics? This cannot be undone.</source>
        <translation>删除运行文件夹
{0}
及其中的检查点和指标吗？此操作无法撤销。</translation>
    </message>
    <message>
        <source>Deleted {0}</source>
        <translation>已删除 {0}</translation>
    </message>
    <message>
        <source>Copied: {0}</source>
        <translation>已复制：{0}</translation>
    </message>
    <message>
        <source>Cannot read this run&apos;s settings: {0}</source>
        <translation>无法读取这个运行的设置：{0}</translation>
    </message>
    <message>
        <source>Loaded the settings of {0}</source>
        <translation>已载入 {0} 的设置</translation>
    </message>
    <message>
        <source>Epoch {0}, the one the best checkpoint holds</source>
        <translation>第 {0} 轮，即最佳检查点保存的那一轮</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>epochs</source>
        <translation>轮次</translation>
    </message>
    <message>
        <source>batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>threads</source>
        <translation>线程数</translation>
    </message>
    <message>
        <source>best metric</source>
        <translation>最佳指标</translation>
    </message>
    <message>
        <source>top k</source>
        <translation>前 k 项</translation>
    </message>
    <message>
        <source>accumulate steps</source>
        <translation>梯度累积步数</translation>
    </message>
    <message>
        <source>grad clip</source>
        <translation>梯度裁剪</translation>
    </message>
    <message>
        <source>early stopping patience</source>
        <translation>早停耐心轮数</translation>
    </message>
    <message>
        <source>early stopping min delta</source>
        <translation>早停最小改善</translation>
    </message>
    <message>
        <source>checkpoint every</source>
        <translation>检查点间隔</translation>
    </message>
    <message>
        <source>precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <source>fast</source>
        <translation>加速</translation>
    </message>
    <message>
        <source>tensorboard</source>
        <translation>TensorBoard</translation>
    </message>
    <message>
        <source>init from</source>
        <translation>初始权重</translation>
    </message>
    <message>
        <source>load matching only</source>
        <translation>只加载匹配的层</translation>
    </message>
    <message>
        <source>freeze</source>
        <translation>冻结</translation>
    </message>
    <message>
        <source>train only</source>
        <translation>只训练</translation>
    </message>
    <message>
        <source>lr multipliers</source>
        <translation>学习率倍数</translation>
    </message>
    <message>
        <source>unfreeze every</source>
        <translation>解冻间隔</translation>
    </message>
    <message>
        <source>lora targets</source>
        <translation>LoRA 目标层</translation>
    </message>
    <message>
        <source>lora rank</source>
        <translation>LoRA 秩</translation>
    </message>
    <message>
        <source>lora alpha</source>
        <translation>LoRA alpha</translation>
    </message>
    <message>
        <source>lora dropout</source>
        <translation>LoRA dropout</translation>
    </message>
    <message>
        <source>lora rslora</source>
        <translation>LoRA rsLoRA</translation>
    </message>
    <message>
        <source>qlora</source>
        <translation>QLoRA</translation>
    </message>
    <message>
        <source>dropout</source>
        <translation>dropout</translation>
    </message>
    <message>
        <source>hidden sizes</source>
        <translation>隐藏层大小</translation>
    </message>
    <message>
        <source>activation</source>
        <translation>激活函数</translation>
    </message>
    <message>
        <source>channels</source>
        <translation>通道数</translation>
    </message>
    <message>
        <source>batch norm</source>
        <translation>批归一化</translation>
    </message>
    <message>
        <source>hidden size</source>
        <translation>隐藏层大小</translation>
    </message>
    <message>
        <source>layers</source>
        <translation>层数</translation>
    </message>
    <message>
        <source>bidirectional</source>
        <translation>双向</translation>
    </message>
    <message>
        <source>embedding dim</source>
        <translation>词向量维度</translation>
    </message>
    <message>
        <source>width</source>
        <translation>宽度</translation>
    </message>
    <message>
        <source>depth</source>
        <translation>深度</translation>
    </message>
    <message>
        <source>heads</source>
        <translation>注意力头数</translation>
    </message>
    <message>
        <source>patch size</source>
        <translation>图像块大小</translation>
    </message>
    <message>
        <source>first kernel</source>
        <translation>首层卷积核</translation>
    </message>
    <message>
        <source>first stride</source>
        <translation>首层步长</translation>
    </message>
    <message>
        <source>weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>weights file</source>
        <translation>权重文件</translation>
    </message>
    <message>
        <source>image size</source>
        <translation>图像尺寸</translation>
    </message>
    <message>
        <source>source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>gradient checkpointing</source>
        <translation>梯度检查点</translation>
    </message>
    <message>
        <source>val split</source>
        <translation>验证集比例</translation>
    </message>
    <message>
        <source>classes</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>random crop</source>
        <translation>随机裁剪</translation>
    </message>
    <message>
        <source>flip</source>
        <translation>翻转</translation>
    </message>
    <message>
        <source>rotation</source>
        <translation>旋转</translation>
    </message>
    <message>
        <source>mixup alpha</source>
        <translation>图像混合 alpha</translation>
    </message>
    <message>
        <source>cutmix alpha</source>
        <translation>裁剪混合 alpha</translation>
    </message>
    <message>
        <source>mix prob</source>
        <translation>混合概率</translation>
    </message>
    <message>
        <source>crop scale min</source>
        <translation>裁剪面积下限</translation>
    </message>
    <message>
        <source>crop scale max</source>
        <translation>裁剪面积上限</translation>
    </message>
    <message>
        <source>brightness</source>
        <translation>亮度</translation>
    </message>
    <message>
        <source>contrast</source>
        <translation>对比度</translation>
    </message>
    <message>
        <source>saturation</source>
        <translation>饱和度</translation>
    </message>
    <message>
        <source>hue</source>
        <translation>色相</translation>
    </message>
    <message>
        <source>trivial augment</source>
        <translation>TrivialAugment 随机增强</translation>
    </message>
    <message>
        <source>erasing</source>
        <translation>随机擦除</translation>
    </message>
    <message>
        <source>data dir</source>
        <translation>数据文件夹</translation>
    </message>
    <message>
        <source>download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>max train samples</source>
        <translation>最多训练样本数</translation>
    </message>
    <message>
        <source>labels</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>val folder</source>
        <translation>验证集文件夹</translation>
    </message>
    <message>
        <source>color</source>
        <translation>颜色</translation>
    </message>
    <message>
        <source>storage</source>
        <translation>存储方式</translation>
    </message>
    <message>
        <source>memory budget mb</source>
        <translation>内存预算 (MB)</translation>
    </message>
    <message>
        <source>workers</source>
        <translation>工作进程数</translation>
    </message>
    <message>
        <source>cache</source>
        <translation>缓存</translation>
    </message>
    <message>
        <source>path</source>
        <translation>路径</translation>
    </message>
    <message>
        <source>target</source>
        <translation>预测目标</translation>
    </message>
    <message>
        <source>task</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>missing</source>
        <translation>缺失值</translation>
    </message>
    <message>
        <source>encoding</source>
        <translation>编码</translation>
    </message>
    <message>
        <source>text column</source>
        <translation>文本列</translation>
    </message>
    <message>
        <source>label column</source>
        <translation>标签列</translation>
    </message>
    <message>
        <source>max length</source>
        <translation>最大长度</translation>
    </message>
    <message>
        <source>vocab size</source>
        <translation>词表大小</translation>
    </message>
    <message>
        <source>min count</source>
        <translation>最少出现次数</translation>
    </message>
    <message>
        <source>lowercase</source>
        <translation>转为小写</translation>
    </message>
    <message>
        <source>tokenizer</source>
        <translation>分词方式</translation>
    </message>
    <message>
        <source>prompt field</source>
        <translation>提示字段</translation>
    </message>
    <message>
        <source>response field</source>
        <translation>回答字段</translation>
    </message>
    <message>
        <source>messages field</source>
        <translation>对话字段</translation>
    </message>
    <message>
        <source>split</source>
        <translation>划分方式</translation>
    </message>
    <message>
        <source>group field</source>
        <translation>分组字段</translation>
    </message>
    <message>
        <source>val groups</source>
        <translation>验证组</translation>
    </message>
    <message>
        <source>sample rate</source>
        <translation>采样率</translation>
    </message>
    <message>
        <source>duration</source>
        <translation>时长</translation>
    </message>
    <message>
        <source>features</source>
        <translation>特征</translation>
    </message>
    <message>
        <source>n mels</source>
        <translation>梅尔频带数</translation>
    </message>
    <message>
        <source>n mfcc</source>
        <translation>MFCC 个数</translation>
    </message>
    <message>
        <source>window</source>
        <translation>窗长</translation>
    </message>
    <message>
        <source>hop</source>
        <translation>帧移</translation>
    </message>
    <message>
        <source>time shift</source>
        <translation>时间平移</translation>
    </message>
    <message>
        <source>noise snr</source>
        <translation>噪声信噪比</translation>
    </message>
    <message>
        <source>gain</source>
        <translation>增益</translation>
    </message>
    <message>
        <source>log floor</source>
        <translation>对数下限</translation>
    </message>
    <message>
        <source>normalize bands</source>
        <translation>频带标准化</translation>
    </message>
    <message>
        <source>normalize level</source>
        <translation>音量归一化</translation>
    </message>
    <message>
        <source>speed</source>
        <translation>变速</translation>
    </message>
    <message>
        <source>time masks</source>
        <translation>时间遮挡数</translation>
    </message>
    <message>
        <source>time mask frames</source>
        <translation>时间遮挡帧数</translation>
    </message>
    <message>
        <source>freq masks</source>
        <translation>频率遮挡数</translation>
    </message>
    <message>
        <source>freq mask bands</source>
        <translation>频率遮挡频带数</translation>
    </message>
    <message>
        <source>val speakers</source>
        <translation>验证说话人</translation>
    </message>
    <message>
        <source>lr</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>momentum</source>
        <translation>动量</translation>
    </message>
    <message>
        <source>nesterov</source>
        <translation>Nesterov 动量</translation>
    </message>
    <message>
        <source>weight decay</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <source>beta1</source>
        <translation>beta1</translation>
    </message>
    <message>
        <source>beta2</source>
        <translation>beta2</translation>
    </message>
    <message>
        <source>alpha</source>
        <translation>alpha</translation>
    </message>
    <message>
        <source>step epochs</source>
        <translation>衰减间隔轮次</translation>
    </message>
    <message>
        <source>gamma</source>
        <translation>gamma</translation>
    </message>
    <message>
        <source>min lr</source>
        <translation>最小学习率</translation>
    </message>
    <message>
        <source>warmup epochs</source>
        <translation>预热轮次</translation>
    </message>
    <message>
        <source>pct start</source>
        <translation>上升比例</translation>
    </message>
    <message>
        <source>div factor</source>
        <translation>初始除数</translation>
    </message>
    <message>
        <source>final div factor</source>
        <translation>最终除数</translation>
    </message>
    <message>
        <source>factor</source>
        <translation>系数</translation>
    </message>
    <message>
        <source>patience</source>
        <translation>耐心</translation>
    </message>
    <message>
        <source>threshold</source>
        <translation>阈值</translation>
    </message>
    <message>
        <source>label smoothing</source>
        <translation>标签平滑</translation>
    </message>
    <message>
        <source>class weights</source>
        <translation>类别权重</translation>
    </message>
    <message>
        <source>custom weights</source>
        <translation>自定义权重</translation>
    </message>
</context>
<context>
    <name>StartWeightsField</name>
    <message>
        <source>PyTorch weights (*.pt *.pth);;All files (*)</source>
        <translation>PyTorch 权重 (*.pt *.pth);;所有文件 (*)</translation>
    </message>
    <message>
        <source>none: fresh weights</source>
        <translation>none：全新的权重</translation>
    </message>
    <message>
        <source>Earlier run</source>
        <translation>以前的运行</translation>
    </message>
    <message>
        <source>Start from the best or last checkpoint of an earlier run.</source>
        <translation>从以前某个运行的最佳或最后检查点开始。</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Any checkpoint or state_dict file (.pt).</source>
        <translation>任何检查点或 state_dict 文件（.pt）。</translation>
    </message>
    <message>
        <source>No run with a checkpoint yet in {0}</source>
        <translation>{0} 中还没有带检查点的运行</translation>
    </message>
    <message>
        <source>Choose start weights</source>
        <translation>选择初始权重</translation>
    </message>
</context>
<context>
    <name>SweepDialog</name>
    <message>
        <source>Sweep</source>
        <translation>参数扫描</translation>
    </message>
    <message>
        <source>Setting</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Values (comma-separated)</source>
        <translation>取值（以逗号分隔）</translation>
    </message>
    <message>
        <source>Tick the settings to vary and list their values; every combination is one run.</source>
        <translation>勾选要变化的设置并列出其取值；每种组合是一次运行。</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Open run</source>
        <translation>打开运行</translation>
    </message>
    <message>
        <source>Sweep {0}: {1} runs. Stopped, it continues with traindesk sweep --resume {0}.</source>
        <translation>参数扫描 {0}：{1} 次运行。停止后可用 traindesk sweep --resume {0} 继续。</translation>
    </message>
    <message>
        <source>status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>val metric</source>
        <translation>验证指标</translation>
    </message>
    <message>
        <source>val loss</source>
        <translation>验证损失</translation>
    </message>
    <message>
        <source>best val metric</source>
        <translation>最佳验证指标</translation>
    </message>
</context>
<context>
    <name>Units</name>
    <message>
        <source>epochs</source>
        <translation>轮</translation>
    </message>
    <message>
        <source>s</source>
        <translation>秒</translation>
    </message>
    <message>
        <source>px</source>
        <translation>像素</translation>
    </message>
    <message>
        <source>samples</source>
        <translation>采样点</translation>
    </message>
    <message>
        <source>°</source>
        <translation>°</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>Hz</source>
        <translation>Hz</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>毫秒</translation>
    </message>
    <message>
        <source>dB</source>
        <translation>dB</translation>
    </message>
</context>
</TS>
